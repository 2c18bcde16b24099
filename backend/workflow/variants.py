"""A/B variants: a deterministic bucket per (account, step), the same in SQL and in Python."""

from __future__ import annotations

import zlib

from sqlalchemy import ColumnElement, case, literal

from backend.db.models import Account
from backend.workflow.strategy import Step

MULTIPLIER = 2654435761  # Knuth's multiplicative hash constant
PRIME = 4294967291  # the largest prime below 2**32; products stay inside BIGINT


def salt(step_id: str) -> int:
    """A stable number per step id."""
    return zlib.crc32(step_id.encode()) % 1000003


def bucket(account_id: int, step_id: str) -> int:
    """0..99 for this account and step; never changes, so reports can compare variants."""
    return ((account_id + salt(step_id)) * MULTIPLIER % PRIME) % 100


def bucket_sql(step_id: str) -> ColumnElement[int]:
    """`bucket` as SQL over `Account.id`."""
    return ((Account.id + salt(step_id)) * MULTIPLIER % PRIME) % 100


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
