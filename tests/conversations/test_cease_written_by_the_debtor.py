"""A written refusal to pay or "cease all communication" sets the cease stop-state (and the
channel's opt-out); START lifts only the opt-out; a plain STOP stays an opt-out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from backend.db.models import Account, ContactPoint, Debtor, Handoff
from backend.services.compliance.rules import load_rules
from backend.services.compliance.service import ComplianceGate
from bot.clock import Clock
from bot.dialogs.cease import stated
from bot.messages import ConversationKey, OutboundMessage, Purpose
from bot.ports import OutboxDecision
from nlu.types import IntentScore, Interpreter, Parse
from tests.conversations.conftest import PHONE, Chat
from tests.conversations.fakes import RuleInterpreter

REFUSALS_EN = [
    "I refuse to pay. Cease all communication with me.",
    "I will never pay this, leave me alone",
    "cease and desist",
    "I won't pay this ever",
    "do not contact me ever again",
    "stop contacting me",
]
REFUSALS_ES = [
    "me niego a pagar",
    "nunca voy a pagar",
    "no vuelvan a contactarme",
    "dejen de comunicarse conmigo",
]
NOT_CEASE = ["stop texting me", "stop bugging my grandma", "don't contact me anywhere",
             "no more texts", "stop contacting me by text", "I never paid late",
             "dejen de escribirme", "I can't pay this month"]


class ReadsOptOut(RuleInterpreter):
    """The NLU as reviewers saw it: these messages read as opt_out (Spanish when Spanish)."""

    async def parse(self, text: str, *, reference_time: datetime,
                    timezone: str | None = None, language: str | None = None) -> Parse:
        if text in REFUSALS_EN or text in REFUSALS_ES:
            spanish = text in REFUSALS_ES
            return Parse(text, IntentScore("opt_out", 0.9), language="es" if spanish else "en")
        return await super().parse(text, reference_time=reference_time, timezone=timezone,
                                   language=language)


@pytest.fixture
def reads_opt_out(chat: Chat) -> Chat:
    chat.engine.interpreter = ReadsOptOut()
    return chat


async def _account(chat: Chat) -> Account:
    async with chat.container.sessions() as session:
        account = await session.scalar(select(Account))
    assert account is not None
    return account


async def _opted_out(chat: Chat) -> bool:
    async with chat.container.sessions() as session:
        point = await session.scalar(select(ContactPoint).where(ContactPoint.channel == "sms"))
    assert point is not None
    return point.opted_out_at is not None


async def _reminder(chat: Chat, account_id: int) -> tuple[bool, str | None]:
    """What the gate says, now, of a collection reminder to the account's phone."""
    reminder = OutboundMessage(key=ConversationKey("sms", PHONE), text="Hello",
                               purpose=Purpose.REMINDER, account_id=account_id,
                               sender="reminder")
    async with chat.container.sessions() as session:
        decision = await ComplianceGate(load_rules()).preview(
            session, reminder, None, chat.container.clock.now())
    return decision.allowed, decision.reason


@pytest.mark.parametrize("text", REFUSALS_EN + REFUSALS_ES)
def test_refusals_and_requests_to_end_all_contact_state_a_cease(text: str) -> None:
    assert stated(text)


@pytest.mark.parametrize("text", NOT_CEASE)
def test_channel_opt_outs_and_other_sentences_state_no_cease(text: str) -> None:
    assert not stated(text)


@pytest.mark.parametrize("text", REFUSALS_EN)
async def test_a_written_refusal_sets_cease_and_start_does_not_lift_it(
    reads_opt_out: Chat, text: str,
) -> None:
    chat = reads_opt_out
    out = await chat.says(text)
    assert [r.key for r in out.replies] == ["stop.cease"]
    assert chat.outbox.messages[-1].purpose == Purpose.STOP_ACKNOWLEDGEMENT
    account = await _account(chat)
    assert account.cease and await _opted_out(chat)
    async with chat.container.sessions() as session:
        assert (await session.scalars(select(Handoff.reason))).all() == ["cease"]

    assert [r.key for r in (await chat.says("START")).replies] == ["optin.confirm"]
    assert not await _opted_out(chat)
    assert (await _account(chat)).cease  # compliance.md G item 75: holds are sticky
    assert await _reminder(chat, account.id) == (False, "stop_state:cease")
    assert (await chat.says("how much do I owe")).replies == []  # held: no balance


async def test_a_verified_debtor_who_refuses_gets_no_more_collection(chat: Chat) -> None:
    chat.engine.interpreter = ReadsOptOut()
    await chat.verify()
    out = await chat.says("I will never pay this, leave me alone")
    assert [r.key for r in out.replies] == ["stop.cease"]
    assert (await _account(chat)).cease
    assert (await chat.says("how much do I owe")).replies == []


@pytest.mark.parametrize(("text", "language"), [
    ("I refuse to pay. Cease all communication with me.", "en"),
    ("I will never pay this, leave me alone", "en"),
    ("dejen de comunicarse conmigo", "es"),
    ("no vuelvan a contactarme", "es"),
])
async def test_the_shipped_nlu_reads_a_cease_and_the_account_is_held(
    chat: Chat, interpreter: Interpreter, text: str, language: str,
) -> None:
    chat.engine.interpreter = interpreter
    if language == "es":
        async with chat.container.sessions.begin() as session:
            await session.execute(update(Debtor).values(preferred_language="es"))
    out = await chat.says(text)
    assert (out.intent, [r.key for r in out.replies]) == ("opt_out", ["stop.cease"])
    assert chat.outbox.messages[-1].language == language
    account = await _account(chat)
    assert account.cease and await _opted_out(chat)
    await chat.says("START")
    assert await _reminder(chat, account.id) == (False, "stop_state:cease")


@pytest.mark.parametrize("text", REFUSALS_ES)
async def test_a_spanish_refusal_sets_cease_and_is_acknowledged_in_spanish(
    reads_opt_out: Chat, text: str,
) -> None:
    out = await reads_opt_out.says(text)
    assert [r.key for r in out.replies] == ["stop.cease"]
    assert reads_opt_out.outbox.messages[-1].language == "es"
    assert "dejaremos de contactarle" in out.replies[0].text
    assert (await _account(reads_opt_out)).cease


@pytest.mark.parametrize("text", ["STOP", "stop texting me", "stop bugging my grandma"])
async def test_a_plain_stop_is_no_cease(reads_opt_out: Chat, text: str) -> None:
    await reads_opt_out.says(text)
    assert not (await _account(reads_opt_out)).cease


async def test_a_cease_written_after_stop_is_recorded_without_a_reply(
    reads_opt_out: Chat,
) -> None:
    chat = reads_opt_out
    assert [r.key for r in (await chat.says("STOP")).replies] == ["optout.confirm"]
    assert (await chat.says("cease and desist")).replies == []
    account = await _account(chat)
    assert account.cease and "cease and desist" in (account.stop_details or "")
    async with chat.container.sessions() as session:
        assert (await session.scalars(select(Handoff.reason))).all() == ["cease"]


class GatedOutbox:
    """Asks the real compliance gate, in the turn's transaction, what would go out."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.decisions: list[tuple[str, str]] = []

    async def submit(self, session: Any, outbound: OutboundMessage) -> OutboxDecision:
        decision = await ComplianceGate(load_rules()).preview(
            session, outbound, outbound.conversation_id, self.clock.now())
        self.decisions.append((decision.status, decision.reason))
        return OutboxDecision(None, decision.status)

    async def send(self, message_ids: list[int]) -> None:
        return None


async def test_the_cease_acknowledgement_passes_the_real_gate(reads_opt_out: Chat) -> None:
    gated = GatedOutbox(reads_opt_out.container.clock)
    reads_opt_out.engine.store.deps.outbox = lambda: gated  # type: ignore[attr-defined]
    await reads_opt_out.says("I refuse to pay. Cease all communication with me.")
    # The one message after the opt-out: the acknowledgement, in place of the confirmation.
    assert gated.decisions == [("pending", "stop_acknowledgement")]


class ReadsAsSomethingElse(RuleInterpreter):
    """A refusal the NLU did not read as an opt-out (out_of_scope, hardship, deny...)."""

    def __init__(self, intent: str) -> None:
        super().__init__()
        self.intent = intent

    async def parse(self, text: str, *, reference_time: datetime,
                    timezone: str | None = None, language: str | None = None) -> Parse:
        return Parse(text, IntentScore(self.intent, 0.9))


@pytest.mark.parametrize(("text", "intent"), [
    ("I refuse to pay", "out_of_scope"), ("me niego a pagar", "deny"),
    ("nunca voy a pagar", "hardship"), ("cease and desist, this is harassment", "complaint"),
])
async def test_a_refusal_read_as_another_intent_is_still_a_cease(
    chat: Chat, text: str, intent: str
) -> None:
    await chat.verify()
    chat.engine.interpreter = ReadsAsSomethingElse(intent)
    out = await chat.says(text)
    assert [r.key for r in out.replies] == ["stop.cease"]
    assert (await _account(chat)).cease


@pytest.mark.parametrize(("text", "intent"), [
    ("I refuse to pay, this is not my debt", "dispute_debt"),
    ("I can't pay this month", "hardship"), ("no voy a pagar este mes", "request_extension"),
])
async def test_other_readings_keep_theirs(chat: Chat, text: str, intent: str) -> None:
    await chat.verify()
    chat.engine.interpreter = ReadsAsSomethingElse(intent)
    out = await chat.says(text)
    assert "stop.cease" not in [r.key for r in out.replies]
    assert not (await _account(chat)).cease
