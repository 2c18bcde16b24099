"""How the dashboard pages read their filter form and format figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from backend.reports.filters import ReportFilter
from backend.reports.recovery import AgingRow
from backend.reports.tables import NamedTable
from backend.reports.view import cell, read_filter, table_view

TODAY = date(2026, 11, 25)


def test_no_dates_means_the_last_30_days_and_empty_dates_mean_all_time() -> None:
    assert read_filter(None, None, None, TODAY).filter == ReportFilter(
        date(2026, 10, 27), TODAY)
    everything = read_filter("", "", "", TODAY)
    assert everything.filter == ReportFilter() and not everything.errors


def test_mistakes_are_reported_and_ignored() -> None:
    form = read_filter("2026-11-30", "2026-11-01", "7", TODAY)
    assert form.filter == ReportFilter(date(2026, 11, 1), date(2026, 11, 30), 7)
    assert form.errors == ["the end is before the start; the dates were swapped"]
    form = read_filter("soon", "", "seven", TODAY)
    assert form.filter == ReportFilter() and "'soon' is not a date" in form.errors[0]
    assert form.query(window="7") == "start=&end=&portfolio=&window=7"
    form = read_filter("2026-11-01", "9999-12-31", "", TODAY)
    assert form.filter == ReportFilter(date(2026, 11, 1)) and "range is open" in form.errors[0]


def test_money_rates_counts_and_missing_values() -> None:
    assert cell(D("1234.5"), "amount").text == "1,234.50"
    assert cell(D("0.2571"), "recovery_rate").text == "25.7 %"
    assert cell(D("0.0500"), "share").text == "5.0 %"
    assert cell(12345, "payments").text == "12,345"
    assert cell(0.876, "avg_confidence").text == "0.88"
    assert cell(None, "rate") == cell(None, "x")
    assert cell("=cmd", "label").text == "=cmd"  # autoescaped by Jinja; CSV guards formulas


def test_a_table_keeps_missing_values_aligned_with_their_column() -> None:
    rows = [AgingRow("current", 1, D("10.00"), None), AgingRow("1-30", 0, D("0.00"), D("1"))]
    view = table_view(NamedTable("aging", AgingRow, rows), "Aging", "recovery", "start=")
    assert view.numeric == [False, True, True, True]
    assert view.rows[0] == ["current", "1", "10.00", "—"]
    assert view.csv_url == "/console/reports/recovery.csv?table=aging&start="
