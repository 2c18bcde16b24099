"""Import rows: a value longer than its database column is refused by row and column.

PostgreSQL refuses such a value at write time (SQLite keeps it), so a file that passed a SQLite
trial used to crash a production import; the limits come from the models, not from copies.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from backend.container import Container
from backend.db.models import Account, ContactPoint, Creditor, Debtor, Portfolio
from backend.services.imports.columns import COLUMN_NAMES, EXAMPLE_ROWS
from backend.services.imports.rows import AccountRow, RowError, validate_row
from backend.services.imports.service import import_accounts

LIMITS = {
    "external_ref": Account.__table__.c.external_ref.type.length,
    "creditor": Creditor.__table__.c.name.type.length,
    "portfolio": Portfolio.__table__.c.name.type.length,
    "debtor_name": Debtor.__table__.c.full_name.type.length,
    "postal_code": Debtor.__table__.c.postal_code.type.length,
    "email": ContactPoint.__table__.c.address.type.length,
}


def _too_long(column: str) -> str:
    size = LIMITS[column] + 1
    return "a" * (size - len("@example.com")) + "@example.com" if column == "email" else "7" * size


def _text(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMN_NAMES))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


@pytest.mark.parametrize("column", sorted(LIMITS))
def test_a_value_one_longer_than_its_column_is_refused(column: str) -> None:
    errors = validate_row(2, {**EXAMPLE_ROWS[0], column: _too_long(column)})
    assert isinstance(errors, list)
    assert [(e.row, e.column) for e in errors] == [(2, column)]
    assert f"at most {LIMITS[column]}" in errors[0].reason
    assert _too_long(column) not in errors[0].reason  # not echoed back


@pytest.mark.parametrize("column", sorted(LIMITS))
def test_a_value_as_long_as_its_column_is_accepted(column: str) -> None:
    value = _too_long(column)[1:]
    assert isinstance(validate_row(2, {**EXAMPLE_ROWS[0], column: value}), AccountRow)


async def test_over_long_values_are_reported_and_nothing_is_written(
    container: Container,
) -> None:
    rows = [EXAMPLE_ROWS[1], *({**EXAMPLE_ROWS[0], "external_ref": f"R{i}", column:
                                _too_long(column)} for i, column in enumerate(sorted(LIMITS)))]
    report, _ = await import_accounts(container.sessions, _text(rows).splitlines(True),
                                      now=container.clock.now(), actor="t")
    assert not report.written
    assert [(e.row, e.column) for e in report.errors] == [
        (row, column) for row, column in enumerate(sorted(LIMITS), start=3)
    ]
    async with container.sessions() as session:
        assert await session.scalar(select(func.count(Account.id))) == 0


async def test_skip_invalid_writes_the_rows_that_fit(container: Container) -> None:
    long_name = {**EXAMPLE_ROWS[0], "debtor_name": _too_long("debtor_name")}
    report, _ = await import_accounts(
        container.sessions, _text([long_name, EXAMPLE_ROWS[1]]).splitlines(True),
        now=container.clock.now(), actor="t", skip_invalid=True)
    assert report.written and report.created == 1
    assert report.errors == [RowError(2, "debtor_name", report.errors[0].reason)]
