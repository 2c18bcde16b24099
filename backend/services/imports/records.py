"""Validated rows as the column tuples both write paths send."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from backend.db.models.enums import Channel
from backend.services.imports.rows import AccountRow, RowError

DEBTOR_FIELDS = (
    "full_name",
    "date_of_birth",
    "postal_code",
    "region",
    "country",
    "timezone",
    "preferred_language",
    "written_consent_at",
)
SMS = Channel.SMS.value
EMAIL = Channel.EMAIL.value
# (creditor id, external_ref, portfolio id) and the row it keys.
Keyed = tuple[tuple[int, str, int], AccountRow]
# (creditor id, external_ref) -> the stored (account id, debtor id, currency, original balance).
Existing = dict[tuple[int, str], tuple[int, int, str, Decimal]]


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
        row.written_consent_at,
    )


def debtor_changes(row: AccountRow) -> tuple[Any, ...]:
    """The debtor's columns for an update, None where the row's cell was empty.

    The writers keep the stored value where this is None (COALESCE): a re-import or an API
    update that leaves out the date of birth must not erase a verification factor.
    """
    blank = row.blank
    return tuple(
        None if name in blank else value
        for name, value in zip(DEBTOR_FIELDS, debtor_tuple(row), strict=True)
    )


def merged_changes(earlier: tuple[Any, ...] | None, later: tuple[Any, ...]) -> tuple[Any, ...]:
    """Two rows' changes to one debtor as one: the later row wins where it gives a value."""
    if earlier is None:
        return later
    return tuple(old if new is None else new for old, new in zip(earlier, later, strict=True))


def debtor_values(row: AccountRow) -> dict[str, Any]:
    """The debtor's columns by name."""
    return dict(zip(DEBTOR_FIELDS, debtor_tuple(row), strict=True))


def contacts(rows: Sequence[AccountRow], debtor_of: dict[int, int]) -> list[tuple[int, str, str]]:
    """(debtor id, channel, address) for each row's phone and email, in row order.

    WhatsApp numbers are written apart (`opt_ins.py`): the import records each one it adds.
    """
    found = []
    for row in rows:
        if row.phone:
            found.append((debtor_of[row.row], SMS, row.phone))
        if row.email:
            found.append((debtor_of[row.row], EMAIL, row.email))
    return found


def unchanged_terms(old: list[Keyed], existing: Existing) -> tuple[list[Keyed], list[RowError]]:
    """The rows that agree with their account's currency and original balance, and why not.

    A re-import never writes balances (the ledger owns them once the account exists), so a
    file that disagrees with the debt placed is a row problem, not something to drop silently.
    """
    kept: list[Keyed] = []
    errors: list[RowError] = []
    for key, row in old:
        _, _, currency, original = existing[key[:2]]
        if row.currency != currency:
            reason = f"account {row.external_ref!r} is in {currency}; a re-import cannot change it"
            errors.append(RowError(row.row, "currency", reason))
        elif row.original_given and row.original_balance != original:
            reason = (
                f"{row.original_balance} differs from account {row.external_ref!r}'s"
                f" original balance {original}; a re-import cannot change it"
            )
            errors.append(RowError(row.row, "original_balance", reason))
        else:
            kept.append((key, row))
    return kept, errors


def as_raw(row: AccountRow) -> dict[str, str]:
    """The row's normalized values under their CSV column names (for the error CSV)."""
    values = {
        "external_ref": row.external_ref, "creditor": row.creditor, "portfolio": row.portfolio,
        "debtor_name": row.debtor_name, "phone": row.phone, "email": row.email,
        "date_of_birth": row.date_of_birth, "postal_code": row.postal_code, "state": row.region,
        "country": row.country, "timezone": row.timezone, "currency": row.currency,
        "balance": row.balance, "original_balance": row.original_balance,
        "due_date": row.due_date, "preferred_language": row.preferred_language,
        "whatsapp_phone": row.whatsapp,
        "whatsapp_opt_in_at": row.whatsapp_opt_in_at and row.whatsapp_opt_in_at.isoformat(),
        "written_consent_at": row.written_consent_at and row.written_consent_at.isoformat(),
    }
    return {name: "" if value is None else str(value) for name, value in values.items()}
