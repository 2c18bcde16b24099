"""Any dashboard table as CSV: exact decimals, empty cells for missing values."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from backend.reports.tables import NamedTable

# Spreadsheets run cells starting with these as formulas (CSV injection); labels are user data.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """One value as CSV text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int | float):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def rows_to_csv(columns: list[str], rows: Iterable[Any]) -> str:
    """A header line then one line per row (rows are objects with those attributes)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(getattr(row, c)) for c in columns])
    return out.getvalue()


def table_to_csv(table: NamedTable) -> str:
    """A named dashboard table as CSV."""
    return rows_to_csv(table.columns, table.rows)
