"""Review of handoff notes: a misunderstanding reaches the agent with the debtor's words; an
"I already paid" keeps its reference and asks only for what is missing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from backend.db.models import AuditEvent, Handoff
from backend.services.compliance.debt_mentions import debt_mention
from bot.dialogs import fallback
from bot.dialogs.already_paid import payment_reference
from bot.dialogs.base import DialogState, Outcome, Turn
from bot.effects import Handoff as HandoffEffect
from nlu.types import IntentScore, Parse
from tests.bot.helpers import T0
from tests.conversations.conftest import Chat
from tests.conversations.test_turns import RealEntities

MISSED = "cnt pay til nxt wk sry"
# What the real NLU read in the review (intent, confidence); entities come from the text.
READINGS: dict[str, tuple[str, float]] = {
    MISSED: ("out_of_scope", 0.30),
    "ya": ("affirm", 0.9),
    "I already paid this last week, confirmation number 8XK29341": ("already_paid", 1.0),
    "ya pagué el lunes, folio 4471823": ("already_paid", 1.0),
    "I already paid this last week": ("already_paid", 1.0),
    "I already paid, receipt 55123": ("already_paid", 1.0),
    "I already paid": ("already_paid", 1.0),
}


class Scripted(RealEntities):
    """The readings the review saw, with the shipped entity extractors."""

    async def parse(self, text: str, **kwargs: Any) -> Parse:
        parsed = await super().parse(text, **kwargs)
        if text not in READINGS:
            return parsed
        intent, confidence = READINGS[text]
        return replace(parsed, intent=IntentScore(intent, confidence))


@pytest.fixture
def scripted(chat: Chat) -> Chat:
    chat.engine.interpreter = Scripted()
    return chat


async def _handoffs(chat: Chat) -> list[tuple[str, str, str]]:
    async with chat.container.sessions() as session:
        rows = await session.scalars(select(Handoff).order_by(Handoff.id))
        return [(h.reason, h.queue, h.note or "") for h in rows]


# -- (1) A misunderstanding handed off quotes what was not understood ------------------------


async def test_the_not_understood_note_quotes_the_missed_messages(
    scripted: Chat,
) -> None:
    await scripted.verify()
    first = await scripted.says(MISSED)
    assert [r.key for r in first.replies] == ["fallback.clarify"]
    second = await scripted.says("ya")
    assert [r.key for r in second.replies] == ["fallback.handoff"]
    assert await _handoffs(scripted) == [(
        "not_understood", "general", f'debtor said: "{MISSED}", then "ya"; not understood')]


def _turn(text: str, intent: str = "out_of_scope") -> Turn:
    return Turn(text, intent, T0)


def _note(out: Outcome) -> str | None:
    [handoff] = [e for e in out.effects if isinstance(e, HandoffEffect)]
    return handoff.note


def test_each_quoted_message_is_bounded_and_the_misses_are_forgotten() -> None:
    state = DialogState(history=["asked: $200 on 2026-12-15", "$300 on 2026-12-15"])
    fallback.clarify(Outcome(state), _turn("x" * 400))
    note = _note(fallback.clarify(Outcome(state), _turn("ya", "affirm")))
    assert note == f'debtor said: "{"x" * 299}…", then "ya"; not understood'
    assert state.history == ["asked: $200 on 2026-12-15", "$300 on 2026-12-15"]


def test_a_cleared_up_miss_is_not_quoted_with_the_next_one() -> None:
    state = DialogState()
    fallback.clarify(Outcome(state), _turn("old words"))
    state.clarified = 0  # the next message was understood
    fallback.clarify(Outcome(state), _turn("new words"))
    note = _note(fallback.clarify(Outcome(state), _turn("still lost")))
    assert note == 'debtor said: "new words", then "still lost"; not understood'


def test_without_the_turn_the_handoff_still_happens() -> None:
    state = DialogState(clarified=1)
    out = fallback.clarify(Outcome(state))
    assert [s.reply.key for s in out.said] == ["fallback.handoff"]
    assert _note(out) is None


# -- (2) "I already paid" with its reference ------------------------------------------------


async def _claims(chat: Chat) -> list[dict[str, Any]]:
    async with chat.container.sessions() as session:
        rows = await session.scalars(select(AuditEvent.data).where(
            AuditEvent.action == "payment.claimed"))
        return list(rows)


async def test_a_reference_and_a_day_are_noted_and_nothing_more_is_asked(
    scripted: Chat,
) -> None:
    await scripted.verify()
    said = await scripted.says("I already paid this last week, confirmation number 8XK29341")
    [reply] = said.replies
    assert reply.key == "already_paid.noted"
    assert "confirmation number 8XK29341" in reply.text and "please send" not in reply.text
    [(reason, queue, note)] = await _handoffs(scripted)
    assert (reason, queue) == ("already_paid", "payments")
    assert note.endswith("says paid: amount not given; on: 2026-11-18; reference: 8XK29341")


async def test_spanish_folio_is_the_reference_not_the_amount(scripted: Chat) -> None:
    said = await scripted.says("ya pagué el lunes, folio 4471823")  # not verified yet
    [reply] = said.replies
    assert reply.key == "already_paid.noted"
    assert "23 de noviembre de 2026" in reply.text and "confirmación 4471823" in reply.text
    assert debt_mention(reply.text, ("Acme Bank", "ACME-123456")) is None  # the gate lets it by
    [(_, _, note)] = await _handoffs(scripted)
    assert note.endswith("says paid: amount not given; on: 2026-11-23; reference: 4471823")
    [claim] = await _claims(scripted)
    assert claim["amount"] is None


@pytest.mark.parametrize(("text", "key"), [
    ("I already paid this last week", "already_paid.ask_reference"),
    ("I already paid, receipt 55123", "already_paid.ask_date"),
    ("I already paid", "already_paid.ack"),
])
async def test_the_acknowledgement_asks_only_for_what_is_missing(
    scripted: Chat, text: str, key: str,
) -> None:
    said = await scripted.says(text)
    assert [r.key for r in said.replies] == [key]
    assert debt_mention(said.replies[0].text, ("Acme Bank", "ACME-123456")) is None


@pytest.mark.parametrize(("text", "reference"), [
    ("I paid $200 on 11/20, ref # 55123", "55123"),
    ("paid last week conf#A1B2C3", "A1B2C3"),
    ("i paid, número de confirmación: AB-12345", "AB-12345"),
    ("paid it 8XK29341", "8XK29341"),
    ("paid on 11/20 call me at 212-555-0123", None),
    ("I paid 300 on 11/20 zip 10001", None),
    ("paid on nov24th at 1030am", None),
    ("paid 2026-11-24", None),
    ("paid #12", None),
])
def test_a_reference_is_a_code_not_a_day_an_amount_a_phone_or_a_zip(
    text: str, reference: str | None,
) -> None:
    assert payment_reference(text) == reference


