"""A debtor who calls a time inconvenient is not messaged then until they say otherwise
(compliance.md items 4-5, 12 CFR 1006.6(b)(1)): stored, audited, enforced by the real gate."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import select

from backend.db.models import AuditEvent, ContactPoint, Debtor
from backend.services.compliance.rules import load_rules
from backend.services.compliance.service import ComplianceGate
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.conversations.conftest import PHONE, Chat

NOON_NY = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


async def _hours(chat: Chat) -> tuple[time | None, time | None]:
    async with chat.container.sessions() as session:
        debtor = await session.scalar(select(Debtor))
    assert debtor is not None
    return debtor.contact_not_before, debtor.contact_not_after


async def _reminder(chat: Chat, account_id: int) -> tuple[str, datetime | None, dict]:
    reminder = OutboundMessage(key=ConversationKey("sms", PHONE), text="Hello",
                               purpose=Purpose.REMINDER, account_id=account_id,
                               sender="reminder")
    async with chat.container.sessions() as session:
        decision = await ComplianceGate(load_rules()).preview(
            session, reminder, None, chat.container.clock.now())
    return decision.status, decision.not_before, decision.details


async def test_not_before_noon_is_stored_audited_acknowledged_and_enforced(
    chat: Chat, account_id: int,
) -> None:
    out = await chat.says("please don't message me before noon, I work nights")
    assert out.effects[0] == "SetContactHours"
    assert chat.outbox.texts[-1].startswith("Understood: we won't message you before 12 PM")
    assert await _hours(chat) == (time(12), None)
    async with chat.container.sessions() as session:
        events = (await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "debtor.inconvenient_hours"))).all()
    assert len(events) == 1
    assert events[0].data["not_before"] == "12:00" and "noon" not in str(events[0].data)
    status, not_before, details = await _reminder(chat, account_id)  # 10:00 in New York
    assert (status, not_before) == ("deferred", NOON_NY)
    assert details["designated_hours"]["not_before"] == "12:00"


async def test_hours_said_with_a_question_are_acknowledged_and_the_question_answered(
    chat: Chat,
) -> None:
    await chat.verify()
    before = len(chat.outbox.messages)
    await chat.says("not before 10am please. what is my balance?")
    said = chat.outbox.texts[before:]
    assert said[0].startswith("Understood: we won't message you before 10 AM")
    assert len(said) == 2 and "1,200.00" in said[1]
    assert await _hours(chat) == (time(10), None)


async def test_no_texts_after_six_is_no_opt_out_and_anytime_clears_it(
    chat: Chat, account_id: int,
) -> None:
    await chat.says("no texts after 6pm")  # the NLU reads "no texts" as an opt-out
    async with chat.container.sessions() as session:
        point = await session.scalar(select(ContactPoint))
    assert point is not None and point.opted_out_at is None
    assert await _hours(chat) == (None, time(18))
    await chat.says("you can text me anytime")
    assert await _hours(chat) == (None, None)
    assert chat.outbox.texts[-1].startswith("Understood: we may message you again")
    status, _, details = await _reminder(chat, account_id)
    assert status == "pending" and "designated_hours" not in details
