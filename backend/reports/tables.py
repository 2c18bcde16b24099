"""A dashboard report seen as named tables of dataclass rows (for CSV export and charts)."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any


@dataclasses.dataclass(frozen=True)
class NamedTable:
    """Rows of one dataclass type under a name; the type gives the columns when empty."""

    name: str
    row_type: type
    rows: list[Any]

    @property
    def columns(self) -> list[str]:
        """Column names, in the row type's field order."""
        return [f.name for f in dataclasses.fields(self.row_type)]


def tables_of(report: Any) -> dict[str, NamedTable]:
    """Every list-of-rows field of a report dataclass, in declaration order."""
    hints = typing.get_type_hints(type(report))
    found = {}
    for field in dataclasses.fields(report):
        row_type = typing.get_args(hints[field.name])[0]
        found[field.name] = NamedTable(field.name, row_type, getattr(report, field.name))
    return found


def table_names(report_type: type) -> list[str]:
    """The table names a report type has, without building one."""
    return [f.name for f in dataclasses.fields(report_type)]
