"""A/B variants: a deterministic bucket per (account, step), the same in SQL and in Python."""

from __future__ import annotations

import zlib

from sqlalchemy import ColumnElement, case, literal, literal_column

from backend.db.models import Account
from backend.workflow.strategy import Step

MULTIPLIER = 2654435761  # Knuth's multiplicative hash constant
MIXER = 2146121005  # below 2**31: a 32-bit value times it stays inside BIGINT
PRIME = 4294967291  # the largest prime below 2**32; products stay inside BIGINT


def salt(step_id: str) -> int:
    """A stable number per step id."""
    return zlib.crc32(step_id.encode()) % 1000003


def bucket(account_id: int, step_id: str) -> int:
    """0..99 for this account and step; never changes, so reports can compare variants."""
    mixed = _mix((account_id + salt(step_id)) * MULTIPLIER % PRIME, 16)
    return _mix(mixed * MIXER % PRIME, 15) % 100


def _mix(value: int, shift: int) -> int:
    return value ^ (value >> shift)


def bucket_sql(step_id: str, account_id: ColumnElement[int] | None = None) -> ColumnElement[int]:
    """`bucket` as SQL over `Account.id` (the same arithmetic in SQLite and PostgreSQL).

    A multiplicative hash alone keeps its low digits on a lattice (every third id fell in
    one variant); the xor-shifts between two multiplications spread them."""
    ids = Account.id if account_id is None else account_id
    mixed = _mix_sql((ids + salt(step_id)) * MULTIPLIER % PRIME, 16)
    return _mix_sql(mixed * MIXER % PRIME, 15) % 100


def _mix_sql(value: ColumnElement[int], shift: int) -> ColumnElement[int]:
    shifted = value.op(">>")(literal_column(str(shift)))  # PostgreSQL shifts by an int4 only
    # a ^ b written with the operators both databases have: (a | b) - (a & b).
    return value.op("|")(shifted) - value.op("&")(shifted)


def choose(step: Step, account_id: int) -> str | None:
    """The variant name this account gets for `step` (None when the step has no variants)."""
    point, edge = bucket(account_id, step.id), 0
    for variant in step.variants:
        edge += variant.weight
        if point < edge:
            return variant.name
    return None


def choose_sql(step: Step) -> ColumnElement[str | None]:
    """`choose` as SQL."""
    if not step.variants:
        return literal(None)
    point, edge, whens = bucket_sql(step.id), 0, []
    for variant in step.variants:
        edge += variant.weight
        whens.append((point < edge, variant.name))
    return case(*whens, else_=literal(None))
