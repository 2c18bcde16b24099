"""Validated rows as the column tuples both write paths send."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backend.db.models.enums import Channel
from backend.services.imports.rows import AccountRow

DEBTOR_FIELDS = (
    "full_name",
    "date_of_birth",
    "postal_code",
    "region",
    "country",
    "timezone",
    "preferred_language",
)
SMS = Channel.SMS.value
EMAIL = Channel.EMAIL.value
# (creditor id, external_ref, portfolio id) and the row it keys.
Keyed = tuple[tuple[int, str, int], AccountRow]


def debtor_tuple(row: AccountRow) -> tuple[Any, ...]:
    """The debtor's columns, in DEBTOR_FIELDS order."""
    return (
        row.debtor_name,
        row.date_of_birth,
        row.postal_code,
        row.region,
        row.country,
        row.timezone,
        row.preferred_language,
    )


def debtor_values(row: AccountRow) -> dict[str, Any]:
    """The debtor's columns by name."""
    return dict(zip(DEBTOR_FIELDS, debtor_tuple(row), strict=True))


def contacts(rows: Sequence[AccountRow], debtor_of: dict[int, int]) -> list[tuple[int, str, str]]:
    """(debtor id, channel, address) for each row's phone and email, in row order."""
    found = []
    for row in rows:
        if row.phone:
            found.append((debtor_of[row.row], SMS, row.phone))
        if row.email:
            found.append((debtor_of[row.row], EMAIL, row.email))
    return found
