"""After an agreed settlement, the "pay it all" link opens until the settlement's deadline (the
day its last unpaid part is due, plus the grace days), not only the usual 7 days."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Account
from backend.services import ledger
from backend.services.imports.writer import upsert_accounts
from backend.services.payments.links import PaymentLinks
from bot.clock import SettableClock
from bot.facts import Installment, Offer
from bot.messages import ConversationKey
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox, RuleInterpreter

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
async def chat(container: Container) -> AsyncIterator[Chat]:
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row()], container.clock.now())
    container.services["outbox"] = outbox = CollectingOutbox()
    container.interpreter = RuleInterpreter()
    install_conversations(None, container)
    yield Chat(container, ConversationKey("sms", PHONE), outbox)


async def _agree(chat: Chat, *parts: tuple[date, str]) -> None:
    schedule = tuple(Installment(due, Decimal(amount)) for due, amount in parts)
    offer = Offer(
        "settlement", sum((i.amount for i in schedule), Decimal(0)), parts[0][0], schedule
    )
    async with chat.container.sessions.begin() as session:
        account = await session.scalar(select(Account))
        assert account is not None
        await ledger.record_plan(session, account, offer, ledger.Origin(chat.container.clock.now()))


async def _pay_it_all_link(chat: Chat) -> str:
    out = await chat.says("I want to pay in full")
    assert [r.key for r in out.replies] == ["pay.settlement_link"]
    found = re.search(r"/pay/([\w.-]+)", out.replies[0].text)
    assert found is not None
    return found.group(1)


def _opens_on(chat: Chat, clock: SettableClock, token: str, day: date) -> bool:
    clock.set(datetime(day.year, day.month, day.day, 12, tzinfo=NEW_YORK))
    links: PaymentLinks = chat.container.services["payment_links"]
    return links.read(token) is not None


async def test_the_pay_it_all_link_opens_until_the_settlements_deadline(
    chat: Chat,
    clock: SettableClock,
) -> None:
    await chat.verify()
    await _agree(chat, (date(2027, 1, 15), "900.00"))
    token = await _pay_it_all_link(chat)
    assert _opens_on(chat, clock, token, date(2027, 1, 10))  # far past the usual 7 days
    assert _opens_on(chat, clock, token, date(2027, 1, 15))  # the deadline itself
    assert not _opens_on(chat, clock, token, date(2027, 1, 15) + timedelta(days=30))


async def test_a_settlement_in_parts_keeps_the_link_open_to_its_last_part(
    chat: Chat,
    clock: SettableClock,
) -> None:
    await chat.verify()
    await _agree(chat, (date(2026, 12, 5), "450.00"), (date(2027, 1, 15), "450.00"))
    token = await _pay_it_all_link(chat)
    assert _opens_on(chat, clock, token, date(2027, 1, 15))
