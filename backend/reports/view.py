"""Dashboards as pages show them: the filter form read leniently, tables as formatted cells."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from backend.reports.filters import ReportFilter
from backend.reports.sql import Rate
from backend.reports.tables import NamedTable
from backend.services.policy.money import minor_unit

DEFAULT_DAYS = 30
PERCENT_SUFFIXES = ("rate", "share")
TENTH = Decimal("0.1")
SUMMARY_TABLES = ("totals", "summary")
LABELS = {"dpd_bucket": "DPD bucket", "avg_first_response_seconds": "Avg first response (s)",
          "max_first_response_seconds": "Max first response (s)",
          "avg_handle_seconds": "Avg handling (s)", "target_seconds": "Target (s)",
          "collected_per_send": "Collected per send"}


@dataclass(frozen=True)
class FilterForm:
    """The filter a page was asked for, as typed, and what it became."""

    start: str
    end: str
    portfolio: str
    filter: ReportFilter
    errors: list[str] = field(default_factory=list)
    currency: str = ""

    def query(self, **extra: str | None) -> str:
        """The query string that asks for the same figures (CSV links, tabs)."""
        params = {"start": self.start, "end": self.end, "portfolio": self.portfolio,
                  "currency": self.currency or None, **extra}
        return urlencode({k: v for k, v in params.items() if v is not None})


def _day(text: str, name: str, errors: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"{name} {text!r} is not a date (YYYY-MM-DD); ignored")
        return None


def read_filter(start: str | None, end: str | None, portfolio: str | None,
                today: date, currency: str | None = None) -> FilterForm:
    """The page's filter; the last 30 days when no dates were given at all (empty fields
    mean an open end). Mistakes are reported and ignored, never an error page."""
    if start is None and end is None:
        start, end = (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(), today.isoformat()
    errors: list[str] = []
    first, last = _day(start or "", "start", errors), _day(end or "", "end", errors)
    if last and last >= date.max:
        errors.append(f"the end must be before {date.max.isoformat()}; the range is open")
        last = None
    if first and last and last < first:
        errors.append("the end is before the start; the dates were swapped")
        first, last = last, first
    portfolio_id = _portfolio(portfolio or "", errors)
    code = (currency or "").strip().upper()
    code = code if len(code) == 3 and code.isalpha() else ""
    return FilterForm(
        first.isoformat() if first else "", last.isoformat() if last else "",
        "" if portfolio_id is None else str(portfolio_id),
        ReportFilter(first, last, portfolio_id, currency=code or None), errors, code,
    )


def _portfolio(text: str, errors: list[str]) -> int | None:
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    errors.append(f"portfolio {text!r} is not a portfolio id; showing all portfolios")
    return None


def known_portfolio(form: FilterForm, portfolio_ids: Container[int]) -> FilterForm:
    """The form, its portfolio reported and ignored when no such portfolio exists."""
    wanted = form.filter.portfolio_id
    if wanted is None or wanted in portfolio_ids:
        return form
    error = f"there is no portfolio {wanted}; showing all portfolios"
    return replace(form, portfolio="", filter=replace(form.filter, portfolio_id=None),
                   errors=[*form.errors, error])


@dataclass(frozen=True)
class Cell:
    """One formatted value; `numeric` right-aligns it."""

    text: str
    numeric: bool


@dataclass(frozen=True)
class TableView:
    """A report table ready for the template, with its CSV link."""

    name: str
    title: str
    headings: list[str]
    columns: list[str]
    numeric: list[bool]  # per column: right-aligned (a missing value too)
    rows: list[list[str]]
    csv_url: str
    summary: bool


def label(column: str) -> str:
    """A column name as a heading."""
    return LABELS.get(column) or column.replace("_", " ").capitalize()


def percent_text(rate: Decimal | float) -> str:
    """A rate in percent to one decimal, rounded half up once from its exact value."""
    exact = rate.exact if isinstance(rate, Rate) else Decimal(str(rate))
    return f"{(exact * 100).quantize(TENTH, ROUND_HALF_UP)} %"


def cell(value: Any, column: str, currency: str | None = None) -> Cell:
    """A value as the page shows it: money in the currency's minor units (two decimals
    without one), rates in percent."""
    if value is None:
        return Cell("—", False)
    if isinstance(value, bool | str):
        return Cell(str(value), False)
    if isinstance(value, Decimal) and column.endswith(PERCENT_SUFFIXES):
        return Cell(percent_text(value), True)
    if isinstance(value, Decimal):
        return Cell(f"{value.quantize(minor_unit(currency)):,f}", True)
    if isinstance(value, float):
        return Cell(f"{value:,.2f}" if column.startswith("avg_conf") else f"{value:,.1f}", True)
    if isinstance(value, int):
        return Cell(f"{value:,}", True)
    return Cell(str(value), False)


def table_view(table: NamedTable, title: str, dashboard: str, query: str,
               currency: str | None = None) -> TableView:
    """A table's headings and formatted rows (amounts in `currency`'s minor units);
    summaries leave out their 'all' labels."""
    summary = table.name in SUMMARY_TABLES
    hidden = {"key", "label", "strategy", "step", "variant"} if summary else set()
    if "label" in table.columns:
        hidden.add("key")  # an id or the label again; the CSV keeps it
    columns = [c for c in table.columns if c not in hidden]
    rows = [[cell(getattr(row, c), c, currency) for c in columns] for row in table.rows]
    numeric = [any(r[i].numeric for r in rows) for i in range(len(columns))]
    params = f"table={table.name}" + (f"&{query}" if query else "")
    return TableView(table.name, title, [label(c) for c in columns], columns, numeric,
                     [[c.text for c in r] for r in rows],
                     f"/console/reports/{dashboard}.csv?{params}", summary)
