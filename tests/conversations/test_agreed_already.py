"""What the debtor already agreed shapes what the bot offers next: no promise twice, none past
what pending promises leave of the balance, and paying a settlement means its amount."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from backend.db.models import Account, Promise
from backend.services import ledger
from bot.facts import Installment, Offer
from nlu.extractors import extract_entities
from nlu.types import IntentScore, Parse
from tests.conversations.conftest import Chat
from tests.conversations.fakes import RuleInterpreter


async def _promises(chat: Chat) -> list[tuple[Decimal, date]]:
    async with chat.container.sessions() as session:
        rows = await session.execute(select(Promise.amount, Promise.due_date).order_by(Promise.id))
        return [(amount, due) for amount, due in rows]


async def _promise(chat: Chat, text: str) -> list[str]:
    offered = await chat.says(text)
    keys = [r.key for r in offered.replies]
    if keys == ["promise.confirm"] or keys == ["promise.counter"]:
        keys += [r.key for r in (await chat.says("yes")).replies]
    return keys


async def test_the_same_promise_twice_is_recorded_once(chat: Chat) -> None:
    await chat.verify()
    assert await _promise(chat, "I'll pay $50 on 2026-12-04") == [
        "promise.confirm", "promise.recorded"]
    again = await chat.says("I'll pay $50 on 2026-12-04")
    assert [r.key for r in again.replies] == ["promise.already"]
    assert "$50.00" in again.replies[0].text and "December 4" in again.replies[0].text
    assert await _promises(chat) == [(Decimal("50.00"), date(2026, 12, 4))]


async def test_a_new_promise_covers_only_what_pending_ones_leave(chat: Chat) -> None:
    await chat.verify()
    assert await _promise(chat, "I'll pay $1000 on 2026-12-04")== [
        "promise.confirm", "promise.recorded"]
    keys = await _promise(chat, "I'll pay $990 on 2026-12-10")
    assert keys == ["promise.counter", "promise.recorded"]  # $200 is all that is left
    assert await _promises(chat) == [(Decimal("1000.00"), date(2026, 12, 4)),
                                     (Decimal("200.00"), date(2026, 12, 10))]
    covered = await chat.says("I'll pay $30 on 2026-12-12")
    assert [r.key for r in covered.replies] == ["promise.covered"]
    assert len(await _promises(chat)) == 2


async def test_paying_in_full_after_a_settlement_pays_the_settlement(chat: Chat) -> None:
    await chat.verify()
    async with chat.container.sessions.begin() as session:
        account = await session.scalar(select(Account))
        assert account is not None
        offer = Offer("settlement", Decimal("900.00"), date(2026, 12, 5),
                      (Installment(date(2026, 12, 5), Decimal("900.00")),))
        await ledger.record_plan(session, account, offer,
                                 ledger.Origin(chat.container.clock.now()))
    out = await chat.says("I want to pay in full")
    assert [r.key for r in out.replies] == ["pay.settlement_link"]
    assert "$900.00" in out.replies[0].text and "$1,200.00" not in out.replies[0].text
    async with chat.container.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Promise)) == 0


class NumbersAsOffers(RuleInterpreter):
    """How the shipped model reads a bare "60607": a counter-offer of 60,607."""

    async def parse(self, text: str, **kwargs: Any) -> Parse:
        parsed = await super().parse(text, **kwargs)
        if not text.strip().isdigit():
            return parsed
        entities = extract_entities(text, reference_time=kwargs["reference_time"])
        return replace(parsed, intent=IntentScore("counter_offer", 0.99), entities=entities)


async def test_the_zip_sent_again_after_verifying_is_no_offer(chat: Chat) -> None:
    await chat.verify()
    chat.engine.interpreter = NumbersAsOffers()
    again = await chat.says("10001")
    assert [r.key for r in again.replies] == ["identity.verified"]
    assert (await chat.says("03/14/1985")).replies[0].key == "identity.verified"
