"""Import header: a column named twice is refused; names match whatever their case and spaces."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account
from backend.services.imports.columns import COLUMN_NAMES, EXAMPLE_ROWS
from backend.services.imports.reader import read_accounts
from backend.services.imports.rows import RowError
from backend.services.imports.service import import_accounts
from tests.backend.test_import_jobs import Api, api  # noqa: F401  (the fixture)

ROW = [EXAMPLE_ROWS[0][name] for name in COLUMN_NAMES]  # balance 1250.00


def _text(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


BALANCE_TWICE = _text([*COLUMN_NAMES, "balance"], [[*ROW, "7"]])


def test_a_header_naming_a_column_twice_is_refused() -> None:
    parsed = read_accounts(io.StringIO(BALANCE_TWICE))
    assert parsed.rows == [] and parsed.total == 0
    [error] = parsed.errors
    assert (error.row, error.column) == (1, "balance")
    assert "named twice" in error.reason


def test_a_column_named_twice_in_another_case_is_refused() -> None:
    parsed = read_accounts(io.StringIO(_text([*COLUMN_NAMES, " Balance "], [[*ROW, "7"]])))
    assert [(e.row, e.column) for e in parsed.errors] == [(1, "balance")]
    assert "named twice" in parsed.errors[0].reason


async def test_a_file_naming_balance_twice_writes_nothing(container: Container) -> None:
    report, _ = await import_accounts(container.sessions, BALANCE_TWICE.splitlines(True),
                                      now=container.clock.now(), actor="t", skip_invalid=True)
    assert not report.written
    assert [(e.row, e.column) for e in report.errors] == [(1, "balance")]
    async with container.sessions() as session:
        assert await session.scalar(select(Account)) is None


async def test_the_api_refuses_a_column_named_twice_with_422(api: Api) -> None:  # noqa: F811
    response = await api.client.post(
        "/api/accounts/import", files={"file": ("a.csv", BALANCE_TWICE.encode())},
        headers=api.auth)
    assert response.status_code == 422
    errors = response.json()["detail"]["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(1, "balance")]
    assert "named twice" in errors[0]["reason"]
    assert await api.accounts() == 0


def test_header_names_match_whatever_their_case_and_surrounding_spaces() -> None:
    header = [f"  {name.upper()} " for name in COLUMN_NAMES]
    parsed = read_accounts(io.StringIO(_text(header, [ROW])))
    assert parsed.errors == []
    [row] = parsed.rows
    assert (row.external_ref, str(row.balance)) == ("ACME-000123", "1250.00")


def test_an_unknown_column_is_still_named_as_written() -> None:
    parsed = read_accounts(io.StringIO(_text([*COLUMN_NAMES, "Notes"], [[*ROW, "x"]])))
    assert parsed.errors == [RowError(1, "Notes", parsed.errors[0].reason)]
    assert parsed.errors[0].reason.startswith("unknown column")
