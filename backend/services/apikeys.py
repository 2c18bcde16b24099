"""API keys for machine clients: created once, stored as a SHA-256, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import ApiKey

KEY_PREFIX = "pk_"


def hash_key(raw: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(raw.encode()).hexdigest()


async def create_key(session: AsyncSession, name: str, now: datetime) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the raw key, which is never retrievable again."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=raw[:10], key_hash=hash_key(raw), created_at=now)
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
