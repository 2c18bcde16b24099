"""Follow-ups: a past day asked for a promise is asked again; a number held by its other
channel's opt-out is opted out for the turn; a payment claim keeps its reference; START
gives back a hold whose note quotes the debtor."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, ContactPoint, Conversation, Handoff, Promise
from backend.services.compliance.consent import record_opt_out
from backend.services.compliance.rules import load_rules
from backend.services.compliance.service import ComplianceGate
from backend.services.imports.writer import upsert_accounts
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage, Purpose
from nlu.types import Interpreter
from tests.bot.helpers import Transcript, keys, make_facts
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.test_dialog_gaps_replay_and_notes import _chat

OPTED_IN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


async def _handoffs(chat: Chat) -> list[tuple[str, str, str]]:
    async with chat.container.sessions() as session:
        rows = await session.scalars(select(Handoff).order_by(Handoff.id))
        return [(h.reason, h.status, h.note or "") for h in rows]


async def _ownership(chat: Chat) -> str:
    async with chat.container.sessions() as session:
        conversation = await session.scalar(select(Conversation).where(
            Conversation.channel == chat.key.channel, Conversation.address == chat.key.address))
    assert conversation is not None
    return str(conversation.ownership)


# -- (1) A past day answering "On what date can you pay?" is asked again ----------------------


async def test_a_past_day_for_the_promise_is_asked_again(
    container: Container, interpreter: Interpreter, clock: SettableClock,
) -> None:
    clock.advance(timedelta(days=10))  # Saturday 2026-12-05: "december 2nd" has passed
    chat = await _chat(container, interpreter)
    await chat.verify()
    assert [r.key for r in (await chat.says("I'll pay 200")).replies] == ["promise.ask_date"]
    asked = await chat.says("december 2nd")
    assert [r.key for r in asked.replies] == ["extension.ask_date"]
    assert "already passed" in asked.replies[0].text
    assert await _handoffs(chat) == []
    assert [r.key for r in (await chat.says("december 10th")).replies] == ["promise.confirm"]
    assert [r.key for r in (await chat.says("yes")).replies] == ["promise.recorded"]
    async with container.sessions() as session:
        promises = (await session.execute(select(Promise.amount, Promise.due_date))).all()
    assert [tuple(p) for p in promises] == [(Decimal("200.00"), date(2026, 12, 10))]


def test_only_repeated_past_days_for_the_promise_go_to_a_person() -> None:
    t = Transcript(make_facts())
    t.verify()
    assert keys(t.says("I'll pay 200", "promise_to_pay", amount="200.00")) == [
        "promise.ask_date"]
    answers = [t.says("the 20th", "promise_to_pay", date="2026-11-20") for _ in range(4)]
    assert [keys(out) for out in answers[:-1]] == [["extension.ask_date"]] * 3
    assert keys(answers[-1]) == ["negotiate.handoff"]  # max_rounds: 3


# -- (2) START on WhatsApp lifts the opt-out its SMS holds it by ------------------------------


def _on_whatsapp(chat: Chat) -> Chat:
    return Chat(chat.container, ConversationKey("whatsapp", PHONE), chat.outbox)


async def _gate(container: Container, channel: str) -> str:
    async with container.sessions() as session:
        account_id = await session.scalar(select(Account.id))
        decision = await ComplianceGate(load_rules()).preview(
            session, OutboundMessage(key=ConversationKey(channel, PHONE), text="Hello",
                                     purpose=Purpose.REMINDER, account_id=account_id,
                                     template="reminder" if channel == "whatsapp" else None,
                                     sender="reminder"),
            None, container.clock.now())
    return decision.reason


async def _sms_stop_then_whatsapp(chat: Chat) -> Chat:
    """SMS STOP, then the file gives the number for WhatsApp: its point is created now."""
    assert [r.key for r in (await chat.says("STOP")).replies] == ["optout.confirm"]
    chat.container.clock.advance(timedelta(hours=1))
    async with chat.container.sessions.begin() as session:
        await upsert_accounts(session, [account_row(whatsapp=PHONE, whatsapp_opt_in_at=OPTED_IN)],
                              chat.container.clock.now())
    return _on_whatsapp(chat)


async def test_start_on_whatsapp_lifts_the_hold_of_the_sms_stop(chat: Chat) -> None:
    whatsapp = await _sms_stop_then_whatsapp(chat)
    assert await _gate(chat.container, "whatsapp") == "opted_out"
    started = await whatsapp.says("START")
    [confirm] = started.replies
    assert (confirm.key, confirm.decision.allowed) == ("optin.confirm", True)
    assert started.effects == ["RecordOptIn"]
    assert await _gate(chat.container, "whatsapp") == "allowed"
    assert await _gate(chat.container, "sms") == "opted_out"  # SMS waits for its own START


async def test_a_number_held_by_its_sms_stop_is_silent_on_whatsapp(chat: Chat) -> None:
    whatsapp = await _sms_stop_then_whatsapp(chat)
    heard = await whatsapp.says("how much do i owe")
    assert heard.replies == []
    assert await _handoffs(chat) == []
    assert await _ownership(whatsapp) == "bot"


# -- (3) "I already paid, confirmation 8XK29341" keeps the reference in the audit ------------


async def test_a_payment_claim_audits_its_reference(
    container: Container, interpreter: Interpreter,
) -> None:
    chat = await _chat(container, interpreter)
    await chat.verify()
    said = await chat.says("I already paid, confirmation 8XK29341")
    assert said.effects[:1] == ["RecordPaymentClaim"]
    async with container.sessions() as session:
        claims = (await session.scalars(select(AuditEvent.data).where(
            AuditEvent.action == "payment.claimed"))).all()
    assert [c["reference"] for c in claims] == ["8XK29341"]


# -- (4) START gives back a hold whose note quotes the debtor -------------------------------


async def test_start_returns_a_hold_noted_with_the_debtors_words(chat: Chat) -> None:
    """An opted-out number also marked wrong party is held with a person told; the debtor's
    START still gives the conversation back to the bot."""
    now = chat.container.clock.now()
    async with chat.container.sessions.begin() as session:
        await record_opt_out(session, chat.key, "STOP", now)
        for point in (await session.scalars(select(ContactPoint))).all():
            point.wrong_party = True
    assert (await chat.says("hello")).replies == []
    assert await _handoffs(chat) == [
        ("inbound_on_hold", "queued", 'debtor said: "hello"; opted_out')]
    await chat.says("START")
    assert [h[:2] for h in await _handoffs(chat)] == [("inbound_on_hold", "returned")]
    assert await _ownership(chat) == "bot"
