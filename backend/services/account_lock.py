"""Holding one account until commit, so a check and the write that depends on it are one step."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account


async def hold_account(session: AsyncSession, account_id: int) -> None:
    """Until this transaction ends, no other transaction holding the account gets past here.

    Two requests at once (a double click, the CLI and the API) would otherwise each find
    nothing recorded and each record it.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(Account.id).where(Account.id == account_id).with_for_update())
    else:  # SQLite has one writer at a time: writing first takes that lock before the check
        await session.execute(
            update(Account).where(Account.id == account_id).values(status=Account.status))
