"""An SMS or WhatsApp opt-out holds the number's other channel at send time, whenever its
contact point was created; START lifts only the channel it is sent on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Account, AuditEvent, ContactPoint, Conversation, Message
from backend.db.models.enums import Direction
from backend.services.compliance.consent import record_opt_in, record_opt_out
from backend.services.compliance.facts import ContactState, GateFacts
from backend.services.compliance.gate import decide
from backend.services.compliance.rules import load_rules
from backend.services.compliance.service import ComplianceGate
from backend.services.imports.writer import upsert_accounts
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox, RuleInterpreter

RULES = load_rules()
OTHER_PHONE = "+12125550177"
OPTED_IN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _outbound(channel: str, account_id: int, purpose: Purpose = Purpose.REMINDER,
              address: str = PHONE) -> OutboundMessage:
    return OutboundMessage(key=ConversationKey(channel, address), text="Hello",
                           purpose=purpose, account_id=account_id,
                           template="reminder" if channel == "whatsapp" else None,
                           sender="reminder" if purpose == Purpose.REMINDER else "agent:1")


async def _gate(container: Container, channel: str, account_id: int,
                purpose: Purpose = Purpose.REMINDER, address: str = PHONE) -> str:
    """What the gate says now of a message on `channel` to the account's number."""
    async with container.sessions() as session:
        decision = await ComplianceGate(RULES).preview(
            session, _outbound(channel, account_id, purpose, address), None,
            container.clock.now())
    return decision.reason


async def _import(container: Container, **row: object) -> None:
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row(**row)], container.clock.now())


async def _whatsapp_added_later(chat: Chat, number: str = PHONE) -> None:
    """The account file comes again with a WhatsApp number: its point is created now."""
    chat.container.clock.advance(timedelta(hours=1))
    await _import(chat.container, whatsapp=number, whatsapp_opt_in_at=OPTED_IN)
    async with chat.container.sessions() as session:
        points = (await session.scalars(select(ContactPoint).where(
            ContactPoint.channel == "whatsapp"))).all()
    assert [(p.address, p.opted_out_at) for p in points] == [(number, None)]


def _on_whatsapp(chat: Chat) -> Chat:
    return Chat(chat.container, ConversationKey("whatsapp", PHONE), chat.outbox)


async def test_an_sms_stop_holds_a_whatsapp_point_created_afterwards(
    chat: Chat, account_id: int,
) -> None:
    assert [r.key for r in (await chat.says("STOP")).replies] == ["optout.confirm"]
    await _whatsapp_added_later(chat)
    assert await _gate(chat.container, "whatsapp", account_id) == "opted_out"
    assert await _gate(chat.container, "whatsapp", account_id, Purpose.AGENT) == "opted_out"


async def test_the_refusal_is_audited_as_an_opt_out_of_the_same_number(
    chat: Chat, account_id: int,
) -> None:
    await chat.says("STOP")
    await _whatsapp_added_later(chat)
    container = chat.container
    async with container.sessions.begin() as session:
        conversation = Conversation(channel="whatsapp", address=PHONE, account_id=account_id,
                                    started_at=container.clock.now(),
                                    last_message_at=container.clock.now())
        session.add(conversation)
        await session.flush()
        message = Message(conversation_id=conversation.id, direction=Direction.OUTBOUND,
                          channel="whatsapp", text="Hello", delivery_status="pending",
                          created_at=container.clock.now())
        session.add(message)
        await session.flush()
        decision = await ComplianceGate(RULES).evaluate(
            session, _outbound("whatsapp", account_id), conversation_id=conversation.id,
            message_id=message.id, now=container.clock.now())
    assert (decision.status, decision.reason) == ("blocked", "opted_out")
    async with container.sessions() as session:
        audited = (await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "compliance.blocked"))).all()
    assert [(a.data["reason"], a.data["channel"], a.data["same_number"]) for a in audited] == [
        ("opted_out", "whatsapp", True)]


@pytest.fixture
async def on_whatsapp_only(container: Container) -> tuple[Chat, int]:
    """A debtor whose file gives PHONE only as their WhatsApp number; a chat there."""
    await _import(container, phone=OTHER_PHONE, whatsapp=PHONE, whatsapp_opt_in_at=OPTED_IN)
    async with container.sessions() as session:
        account_id = await session.scalar(select(Account.id))
    assert account_id is not None
    outbox = CollectingOutbox()
    container.services["outbox"] = outbox
    container.interpreter = RuleInterpreter()
    install_conversations(None, container)
    return Chat(container, ConversationKey("whatsapp", PHONE), outbox), int(account_id)


async def test_a_whatsapp_opt_out_holds_an_sms_point_created_afterwards(
    on_whatsapp_only: tuple[Chat, int],
) -> None:
    chat, account_id = on_whatsapp_only
    answered = await chat.says("BAJA")
    assert [r.key for r in answered.replies] == ["optout.confirm"]
    # Then the file gives the number for texts too: its SMS point is created now.
    chat.container.clock.advance(timedelta(hours=1))
    await _import(chat.container, phone=PHONE, whatsapp=PHONE, whatsapp_opt_in_at=OPTED_IN)
    async with chat.container.sessions() as session:
        sms = (await session.scalars(select(ContactPoint).where(
            ContactPoint.channel == "sms", ContactPoint.address == PHONE))).all()
    assert [p.opted_out_at for p in sms] == [None]
    assert await _gate(chat.container, "sms", account_id) == "opted_out"
    assert await _gate(chat.container, "sms", account_id, Purpose.AGENT) == "opted_out"


async def test_another_number_is_not_held(chat: Chat, account_id: int) -> None:
    await chat.says("STOP")
    await _whatsapp_added_later(chat, OTHER_PHONE)
    assert await _gate(chat.container, "whatsapp", account_id,
                       address=OTHER_PHONE) == "allowed"


async def test_an_sms_start_lifts_sms_and_the_whatsapp_point_keeps_the_opt_out(
    chat: Chat, account_id: int,
) -> None:
    await chat.says("STOP")
    await _whatsapp_added_later(chat)
    assert [r.key for r in (await chat.says("START")).replies] == ["optin.confirm"]
    assert await _gate(chat.container, "sms", account_id) == "allowed"
    # As a WhatsApp point that existed at the STOP would: only WhatsApp's START lifts it.
    assert await _gate(chat.container, "whatsapp", account_id) == "opted_out"
    started = await _on_whatsapp(chat).says("START")
    assert [r.key for r in started.replies] == ["optin.confirm"]
    assert await _gate(chat.container, "whatsapp", account_id) == "allowed"
    assert await _gate(chat.container, "sms", account_id) == "allowed"


async def test_an_sms_start_never_reopens_whatsapp_stopped_on_its_own(
    chat: Chat, account_id: int,
) -> None:
    await _whatsapp_added_later(chat)
    whatsapp = _on_whatsapp(chat)
    assert [r.key for r in (await whatsapp.says("STOP")).replies] == ["optout.confirm"]
    assert await _gate(chat.container, "sms", account_id) == "opted_out"
    assert [r.key for r in (await chat.says("START")).replies] == ["optin.confirm"]
    assert await _gate(chat.container, "sms", account_id) == "allowed"
    assert await _gate(chat.container, "whatsapp", account_id) == "opted_out"


async def test_a_new_whatsapp_opt_out_after_an_sms_start_holds_later_sms_points(
    on_whatsapp_only: tuple[Chat, int],
) -> None:
    whatsapp, account_id = on_whatsapp_only
    await whatsapp.says("STOP")
    now = whatsapp.container.clock.now()
    # The START came in by SMS: the number has written there, so an agent may answer it.
    await Chat(whatsapp.container, ConversationKey("sms", PHONE), whatsapp.outbox).store("START")
    async with whatsapp.container.sessions.begin() as session:
        await record_opt_in(session, ConversationKey("sms", PHONE), "START", now)
    # No SMS point holds the number yet: an agent's answer may go, not a reminder.
    assert await _gate(whatsapp.container, "sms", account_id, Purpose.AGENT) == "allowed"
    assert await _gate(whatsapp.container, "whatsapp", account_id) == "opted_out"
    async with whatsapp.container.sessions.begin() as session:
        await record_opt_out(session, whatsapp.key, "STOP", now)
    whatsapp.container.clock.advance(timedelta(hours=1))
    await _import(whatsapp.container, phone=PHONE, whatsapp=PHONE, whatsapp_opt_in_at=OPTED_IN)
    assert await _gate(whatsapp.container, "sms", account_id) == "opted_out"


def test_the_gate_holds_a_point_by_the_same_numbers_opt_out_only() -> None:
    now = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    held = ContactState(opted_out_at=None, consent=True, wrong_party=False,
                        same_number_opted_out_at=now - timedelta(days=1))
    facts = GateFacts(zones=("America/New_York",), contact=held)
    decision = decide(_outbound("whatsapp", 1), facts, RULES, now)
    assert (decision.reason, decision.details["same_number"]) == ("opted_out", True)
