"""API keys for machine clients: created once with their scopes and creditor, stored as a SHA-256,
checked in constant time, listed and revoked by their prefix."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import ApiKey, Creditor
from backend.services import audit

KEY_PREFIX = "pk_"
# What a key may do; which routes need which is decided in backend.api.deps.required_scope.
SCOPES = ("read", "write", "payments", "admin")


class KeyNotFound(LookupError):
    """No key, or more than one, has the prefix given (the message says which)."""


class UnknownCreditor(LookupError):
    """No creditor has the name or id given (the message names it)."""


class InvalidScope(ValueError):
    """A scope that does not exist, or none at all (the message lists the valid ones)."""


def hash_key(raw: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(raw.encode()).hexdigest()


def encode_scopes(scopes: Iterable[str] | None) -> str | None:
    """The stored form: comma-separated in SCOPES order; None (every scope) stays None."""
    if scopes is None:
        return None
    wanted = {scope.strip().lower() for scope in scopes}
    unknown = sorted(wanted - set(SCOPES))
    if unknown or not wanted:
        found = f"unknown scope {', '.join(map(repr, unknown))}" if unknown else "no scope"
        raise InvalidScope(f"{found}: choose from {', '.join(SCOPES)}")
    return ",".join(scope for scope in SCOPES if scope in wanted)


def scopes_of(key: ApiKey) -> tuple[str, ...]:
    """What `key` may do; a key stored without scopes may do everything."""
    return SCOPES if key.scopes is None else tuple(key.scopes.split(","))


async def find_creditor(session: AsyncSession, wanted: str) -> Creditor:
    """The creditor named `wanted` (in any case, as imports match names) or with that id."""
    text = wanted.strip()
    rows = list(await session.scalars(select(Creditor).order_by(Creditor.id)))
    # Matched in Python, as imports match creditors, so SQLite and PostgreSQL agree on case.
    by_name = [c for c in rows if c.name.casefold() == text.casefold()]
    by_id = [c for c in rows if text.isdigit() and c.id == int(text)]
    found = by_name or by_id
    if not found:
        raise UnknownCreditor(f"no creditor named {text!r} (nor with that id)")
    return found[0]


async def create_key(
    session: AsyncSession,
    name: str,
    now: datetime,
    scopes: Iterable[str] | None = None,
    creditor: Creditor | None = None,
) -> tuple[ApiKey, str]:
    """Create a key (every scope unless `scopes` is given; every creditor's data unless bound
    to `creditor`); returns the row and the raw key, which is never retrievable again."""
    stored = encode_scopes(scopes)
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name,
        prefix=raw[:10],
        key_hash=hash_key(raw),
        created_at=now,
        scopes=stored,
        creditor_id=creditor.id if creditor else None,
    )
    session.add(row)
    await session.flush()
    return row, raw


async def authenticate(session: AsyncSession, raw: str, now: datetime) -> ApiKey | None:
    """The live key matching `raw`, or None."""
    digest = hash_key(raw)
    row = await session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    # The lookup is by hash; the compare below keeps the final check constant-time.
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, digest):
        return None
    row.last_used_at = now
    return row


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    """Every key, oldest first (revoked ones too)."""
    return list(await session.scalars(select(ApiKey).order_by(ApiKey.id)))


async def creditor_names(session: AsyncSession, keys: Iterable[ApiKey]) -> dict[int, str]:
    """The names of the creditors `keys` are bound to, by id."""
    wanted = {key.creditor_id for key in keys if key.creditor_id is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(Creditor.id, Creditor.name).where(Creditor.id.in_(wanted)))
    return {int(i): name for i, name in rows}


async def revoke_key(session: AsyncSession, prefix: str, now: datetime, *, actor: str) -> ApiKey:
    """Revoke the key with `prefix` (audited); a key revoked before is returned as it is."""
    rows = list(await session.scalars(select(ApiKey).where(ApiKey.prefix == prefix.strip())))
    if len(rows) != 1:
        found = "no API key" if not rows else f"{len(rows)} API keys"
        raise KeyNotFound(f"{found} with prefix {prefix.strip()!r} (see `parley apikey list`)")
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = now
        await audit.record(
            session,
            occurred_at=now,
            actor=actor,
            action="apikey.revoked",
            subject_type="api_key",
            subject_id=row.id,
            data={"name": row.name, "prefix": row.prefix, "creditor_id": row.creditor_id},
        )
    return row
