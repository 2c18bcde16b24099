"""Import files the CSV reader cannot read: refused by file, row and column, never retried.

A field over the CSV reader's limit used to crash the CLI, fail the API with 500 and make a job
retry three times; a binary upload echoed its control bytes back as a column name.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli.main import app
from backend.services.imports.columns import COLUMN_NAMES, EXAMPLE_ROWS
from backend.services.imports.reader import read_accounts
from backend.services.imports.service import import_accounts
from tests.backend.test_import_cli import db_path  # noqa: F401  (the fixture)
from tests.backend.test_import_jobs import Api, api  # noqa: F401  (the fixture)

LIMIT = csv.field_size_limit()
HUGE_NAME = {**EXAMPLE_ROWS[1], "debtor_name": "x" * (LIMIT + 10)}
GARBAGE = bytes(range(0, 9)) + b"\x1b[2J\x7f,\x00\x01\n\x02\x03,\x04\n"
CONTROL = {chr(c) for c in [*range(0, 32), 127]}


def _text(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMN_NAMES))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


HUGE_ON_ROW_3 = _text([EXAMPLE_ROWS[0], HUGE_NAME, EXAMPLE_ROWS[2]])


def test_a_field_over_the_limit_names_its_row_and_column() -> None:
    parsed = read_accounts(io.StringIO(HUGE_ON_ROW_3))
    assert [(e.row, e.column) for e in parsed.errors] == [(3, "debtor_name")]
    assert f"longer than {LIMIT} characters" in parsed.errors[0].reason
    assert parsed.cut_short


def test_an_unclosed_quote_in_the_header_names_row_1() -> None:
    parsed = read_accounts(io.StringIO('external_ref,"' + "a" * (LIMIT + 1)))
    assert [(e.row, e.column) for e in parsed.errors] == [(1, "column 2")]


async def test_a_file_cut_short_writes_nothing_even_when_skipping_invalid_rows(
    api: Api,  # noqa: F811
) -> None:
    report, _ = await import_accounts(api.container.sessions, HUGE_ON_ROW_3.splitlines(True),
                                      now=api.container.clock.now(), actor="t",
                                      skip_invalid=True)
    assert not report.written and report.total == 2
    assert await api.accounts() == 0


async def test_the_api_refuses_a_field_over_the_limit_with_422(api: Api) -> None:  # noqa: F811
    response = await api.client.post(
        "/api/accounts/import", files={"file": ("a.csv", HUGE_ON_ROW_3.encode())},
        headers=api.auth)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, "debtor_name")]
    assert await api.accounts() == 0


async def test_a_job_with_a_field_over_the_limit_is_rejected_once(api: Api) -> None:  # noqa: F811
    queued = await api.queue(HUGE_ON_ROW_3.encode())
    await api.container.scheduler.run_due()
    job = await api.job(queued["id"])
    assert (job["status"], job["attempts"]) == ("rejected", 1)
    report = job["report"]
    assert isinstance(report, dict)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(3, "debtor_name")]
    assert await api.accounts() == 0


def test_the_cli_names_file_row_and_column_of_a_field_over_the_limit(
    db_path: Path, tmp_path: Path,  # noqa: F811
) -> None:
    path = tmp_path / "huge.csv"
    path.write_text(HUGE_ON_ROW_3, encoding="utf-8")
    result = CliRunner().invoke(app, ["accounts", "import", str(path)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{path}: row 3, column debtor_name: a field longer than {LIMIT}" in result.output
    assert "Traceback" not in result.output


async def test_a_binary_upload_is_called_not_a_csv_without_echoing_its_bytes(
    api: Api,  # noqa: F811
) -> None:
    response = await api.client.post(
        "/api/accounts/import", files={"file": ("a.bin", GARBAGE)}, headers=api.auth)
    assert response.status_code == 422
    errors = response.json()["detail"]["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(1, "*")]
    assert "not a CSV file" in errors[0]["reason"]
    assert not CONTROL & set(response.text)


def test_the_cli_says_a_binary_file_has_no_header_not_rows_of_0(
    db_path: Path, tmp_path: Path,  # noqa: F811
) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(GARBAGE)
    result = CliRunner().invoke(app, ["accounts", "import", str(path)])
    assert result.exit_code == 1
    assert "not a CSV file of accounts" in result.output
    assert "of 0" not in result.output
    assert not (CONTROL - {"\n"}) & set(result.output)


@pytest.mark.parametrize("name", ["\x00\x01", "ref\x1b[31m"])
def test_a_control_character_in_one_column_name_is_named_by_position(name: str) -> None:
    parsed = read_accounts(io.StringIO(",".join([*COLUMN_NAMES, name]) + "\n"))
    assert [(e.row, e.column) for e in parsed.errors] == [(1, f"column {len(COLUMN_NAMES) + 1}")]
    assert not CONTROL & set(parsed.errors[0].reason + parsed.errors[0].column)
