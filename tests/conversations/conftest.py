"""Fixtures for conversations over a real database: an account, the engine, a chat helper."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.services.imports.rows import AccountRow
from backend.services.imports.writer import upsert_accounts
from backend.services.inbox import store_inbound
from bot.engine import Engine, TurnResult
from bot.messages import ConversationKey, InboundMessage
from tests.conversations.fakes import CollectingOutbox, RuleInterpreter

PHONE = "+12125550123"


def account_row(**overrides: object) -> AccountRow:
    """A New York debtor owing $1,200.00 to Acme Bank, 95 days past due on 2026-11-25.

    Manhattan (10001): outreach there needs written consent, which this debtor gave.
    """
    values: dict[str, object] = dict(
        row=2, external_ref="ACME-123456", creditor="Acme Bank", portfolio="Cards",
        debtor_name="Jane Roe", phone=PHONE, email=None, date_of_birth=date(1985, 3, 14),
        postal_code="10001", region="NY", country="US", timezone="America/New_York",
        currency="USD", balance=Decimal("1200.00"), original_balance=Decimal("1200.00"),
        due_date=date(2026, 8, 22), preferred_language="en",
        written_consent_at=datetime(2026, 6, 1, 14, 0, tzinfo=UTC),
    )
    values.update(overrides)
    return AccountRow(**values)  # type: ignore[arg-type]


@dataclass
class Chat:
    """Talks to the engine as a debtor on one address."""

    container: Container
    key: ConversationKey
    outbox: CollectingOutbox

    @property
    def engine(self) -> Engine:
        engine: Engine = self.container.services["engine"]
        return engine

    async def store(self, text: str) -> tuple[int, int]:
        """Store an inbound message; (message id, conversation id)."""
        inbound = InboundMessage(self.key, text, uuid.uuid4().hex, self.container.clock.now())
        async with self.container.sessions.begin() as session:
            stored = await store_inbound(session, inbound, now=self.container.clock.now())
        return stored.message_id, stored.conversation_id

    async def says(self, text: str) -> TurnResult:
        """Store and answer one message."""
        message_id, _ = await self.store(text)
        return await self.engine.handle(message_id)

    async def verify(self) -> None:
        await self.says("hi")
        await self.says("03/14/1985")
        await self.says("10001")


@pytest.fixture
async def account_id(container: Container) -> int:
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row()], container.clock.now())
    async with container.sessions() as session:
        from sqlalchemy import select

        from backend.db.models import Account

        found = await session.scalar(select(Account.id))
    assert found is not None
    return int(found)


@pytest.fixture
async def chat(container: Container, account_id: int) -> AsyncIterator[Chat]:
    outbox = CollectingOutbox()
    container.services["outbox"] = outbox
    container.interpreter = RuleInterpreter()
    install_conversations(None, container)
    yield Chat(container, ConversationKey("sms", PHONE), outbox)
