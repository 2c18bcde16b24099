"""CSV export: every table of every report reads back to the same figures."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from backend.container import Container
from backend.reports.automation import automation_report
from backend.reports.csv import rows_to_csv, table_to_csv
from backend.reports.filters import ReportFilter
from backend.reports.nlu_health import nlu_health_report
from backend.reports.outcomes import outcomes_report
from backend.reports.recovery import RecoveryReport, recovery_report
from backend.reports.tables import tables_of
from tests.reports.dataset import TODAY, Seeded


def read_back(value: object, text: str) -> object:
    """The CSV text parsed as the type of the original value."""
    if value is None:
        return None if text == "" else text
    return type(value)(text) if isinstance(value, Decimal | int | float) else text


async def test_every_table_round_trips(container: Container, seeded: Seeded) -> None:
    flt = ReportFilter()
    async with container.sessions() as s:
        reports = [await recovery_report(s, flt, TODAY), await outcomes_report(s, flt),
                   await automation_report(s, flt), await nlu_health_report(s, flt)]
    checked = 0
    for report in reports:
        for table in tables_of(report).values():
            parsed = list(csv.DictReader(io.StringIO(table_to_csv(table))))
            assert len(parsed) == len(table.rows)
            for row, line in zip(table.rows, parsed, strict=True):
                assert list(line) == table.columns
                for column in table.columns:
                    original = getattr(row, column)
                    assert read_back(original, line[column]) == original
                    checked += 1
    assert checked > 200


def test_an_empty_table_still_has_its_header() -> None:
    table = tables_of(RecoveryReport([], [], [], [], [], [], [], []))["aging"]
    assert table_to_csv(table) == "bucket,open_accounts,open_balance,share\r\n"


@dataclass
class Labelled:
    label: str
    amount: Decimal


def test_spreadsheet_formulas_in_labels_are_defused_but_negative_numbers_are_not() -> None:
    text = rows_to_csv(["label", "amount"], [Labelled("=HYPERLINK(\"x\")", Decimal("-1.50")),
                                             Labelled("Acme, Inc.", Decimal("2.00"))])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["'=HYPERLINK(\"x\")", "-1.50"]
    assert rows[2] == ["Acme, Inc.", "2.00"]
