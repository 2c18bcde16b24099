"""Report amounts in their currency's minor units (JPY 0 decimals, USD 2), as Babel knows them."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from typing import Any

from backend.reports.tables import tables_of
from backend.services.policy.money import minor_unit, places

RATE_SUFFIXES = ("rate", "share")


@cache
def money_columns(row_type: type) -> tuple[str, ...]:
    """The row type's amounts: its Decimal fields that are not rates or shares."""
    return tuple(c for c in _decimal_columns(row_type) if not c.endswith(RATE_SUFFIXES))


@cache
def rate_columns(row_type: type) -> tuple[str, ...]:
    """The row type's rates and shares: its Decimal fields named so."""
    return tuple(c for c in _decimal_columns(row_type) if c.endswith(RATE_SUFFIXES))


def _decimal_columns(row_type: type) -> list[str]:
    hints = typing.get_type_hints(row_type)
    return [f.name for f in dataclasses.fields(row_type)
            if Decimal in (hints[f.name], *typing.get_args(hints[f.name]))]


@cache
def has_money(report_type: type) -> bool:
    """True when any table of the report type holds amounts."""
    hints = typing.get_type_hints(report_type)
    return any(money_columns(typing.get_args(hints[f.name])[0])
               for f in dataclasses.fields(report_type))


def display_currency(chosen: str | None, in_scope: Sequence[str]) -> str | None:
    """The currency whose minor units amounts are shown in: the chosen one, the scope's only
    one, else (sums of unlike amounts) the scope's one with the most decimals, so none is cut."""
    if chosen:
        return chosen
    return max(in_scope, key=places, default=None)


def in_minor_units(report: Any, currency: str | None) -> Any:
    """The report with every amount quantized to the currency's minor unit."""
    unit = minor_unit(currency)
    changes = {name: [_row(row, unit) for row in table.rows]
               for name, table in tables_of(report).items() if money_columns(table.row_type)}
    return dataclasses.replace(report, **changes)


def _row(row: Any, unit: Decimal) -> Any:
    return dataclasses.replace(row, **{
        column: getattr(row, column).quantize(unit)
        for column in money_columns(type(row)) if getattr(row, column) is not None})
