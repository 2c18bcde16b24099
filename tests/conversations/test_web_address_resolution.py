"""A portal browser's web address names its account, however the address goes on."""

from __future__ import annotations

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account
from backend.services.imports.writer import upsert_accounts
from backend.services.inbox import resolve_address
from tests.conversations.conftest import account_row


async def test_a_browsers_web_address_resolves_to_its_account(container: Container) -> None:
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row()], container.clock.now())
    async with container.sessions() as session:
        account = await session.scalar(select(Account))
        assert account is not None
        expected = (account.debtor_id, account.id)
        assert await resolve_address(session, "web", f"account:{account.id}") == expected
        browser = f"account:{account.id}:session:{'ab' * 16}"
        assert await resolve_address(session, "web", browser) == expected
