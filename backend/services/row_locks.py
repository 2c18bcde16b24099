"""Holding one row until commit, so a check and the write that depends on it are one step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, ContactPoint, Conversation

# The two-key form is a keyspace apart from the audit chain's one-key lock.
ADDRESS_LOCK = text(
    "SELECT pg_advisory_xact_lock(7306, hashtext(:channel || ':' || :address))")


async def hold_row(session: AsyncSession, model: Any, row_id: int) -> None:
    """Until this transaction ends, no other transaction holding the row gets past here.

    Two requests at once (a double click, the CLI and the API) would otherwise each find
    nothing recorded and each record it.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(model.id).where(model.id == row_id).with_for_update())
    else:  # SQLite has one writer at a time: writing first takes that lock before the check
        await session.execute(update(model).where(model.id == row_id).values(id=model.id))


async def hold_account(session: AsyncSession, account_id: int) -> None:
    """`hold_row` for an account."""
    await hold_row(session, Account, account_id)


async def hold_conversation(session: AsyncSession, conversation_id: int) -> None:
    """`hold_row` for a conversation."""
    await hold_row(session, Conversation, conversation_id)


async def hold_address(session: AsyncSession, channel: str, address: str) -> None:
    """Until this transaction ends, no other transaction holding this address gets past here.

    The address need not have a row yet (a first message, a new contact), so PostgreSQL takes
    an advisory lock on it; SQLite's single writer is taken by writing first.
    """
    key = {"channel": channel, "address": address}
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(ADDRESS_LOCK, key)
    else:
        await session.execute(
            update(ContactPoint).where(ContactPoint.channel == channel,
                                       ContactPoint.address == address)
            .values(id=ContactPoint.id).execution_options(synchronize_session=False))
