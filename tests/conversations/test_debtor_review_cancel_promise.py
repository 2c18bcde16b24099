"""Debtor review: "please cancel the promise" takes a commitment back; it is no opt-out. A
person goes over it with the debtor, the promise stays as recorded, and nothing is opted out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import ContactPoint, Handoff, Promise
from bot.dialogs import opt_out
from bot.dialogs.base import DialogState, Outcome, Turn
from bot.effects import Handoff as HandoffEffect
from bot.effects import RecordOptOut
from bot.messages import ConversationKey
from nlu.types import IntentScore, Interpreter, Parse
from tests.conversations.conftest import PHONE, Chat
from tests.conversations.fakes import CollectingOutbox

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


class OptOutReading:
    """The real NLU, except that it reads one message as opt_out, as the shipped model read
    "please cancel the promise" (0.75) before the review."""

    def __init__(self, real: Interpreter, misread: str) -> None:
        self.real, self.misread = real, misread

    async def parse(self, text: str, *, reference_time: datetime,
                    timezone: str | None = None, language: str | None = None) -> Parse:
        if text == self.misread:
            return Parse(text, IntentScore("opt_out", 0.75), language="en")
        return await self.real.parse(text, reference_time=reference_time, timezone=timezone,
                                     language=language)


async def _chat(container: Container, interpreter: Interpreter) -> Chat:
    container.services["outbox"] = CollectingOutbox()
    container.interpreter = interpreter
    install_conversations(None, container)
    chat = Chat(container, ConversationKey("sms", PHONE), container.services["outbox"])
    await chat.verify()
    return chat


async def _promised(chat: Chat) -> None:
    await chat.says("I'll pay $100 on 2026-12-04")
    assert [r.key for r in (await chat.says("yes")).replies] == ["promise.recorded"]


Rows = list[tuple[str, str, str]]


async def _records(chat: Chat) -> tuple[Rows, Rows, list[datetime | None]]:
    """The handoffs (reason, queue, note), the promises and the addresses' opt-out times."""
    async with chat.container.sessions() as session:
        promises = [(str(p.amount), p.due_date.isoformat(), str(p.status))
                    for p in await session.scalars(select(Promise))]
        handoffs = [(h.reason, h.queue, h.note or "")
                    for h in await session.scalars(select(Handoff).order_by(Handoff.id))]
        opted = [p.opted_out_at for p in await session.scalars(select(ContactPoint))]
    return handoffs, promises, opted


# Worded unlike any training example: the reading must generalise, not recall.
@pytest.mark.parametrize("words", ["pls cancel my promise to pay", "could we cancel that please"])
async def test_cancelling_the_promise_hands_it_to_a_person_and_opts_nothing_out(
    container: Container, account_id: int, interpreter: Interpreter, words: str
) -> None:
    chat = await _chat(container, interpreter)
    await _promised(chat)
    answer = await chat.says(words)
    # Read as request_agent by the NLU: the router still takes it as a withdrawal.
    assert [r.key for r in answer.replies] == ["commitment.withdraw"]
    handoffs, promises, opted = await _records(chat)
    assert promises == [("100.00", "2026-12-04", "pending")]
    assert opted == [None]
    [(_, queue, note)] = handoffs
    assert queue == "payments" and f'debtor said: "{words}"' in note


async def test_an_opt_out_reading_of_cancel_the_promise_is_a_withdrawal(
    container: Container, account_id: int, interpreter: Interpreter
) -> None:
    words = "please cancel the promise"
    chat = await _chat(container, OptOutReading(interpreter, words))
    await _promised(chat)
    answer = await chat.says(words)
    assert [r.key for r in answer.replies] == ["commitment.withdraw"]
    assert "unsubscribed" not in chat.outbox.texts[-1]
    handoffs, promises, opted = await _records(chat)
    assert promises == [("100.00", "2026-12-04", "pending")]
    assert opted == [None]
    assert handoffs == [("reconciliation", "payments",
                         f'debtor said: "{words}"; asks to cancel a promise or plan')]


@pytest.mark.parametrize(("words", "queue"), [
    ("please cancel the promise", "payments"),
    ("cancel my payment plan", "payments"),
    ("I want to cancel the payment. I cant pay anything right now", "hardship"),
    ("cancelar la promesa", "payments"),
    ("quiero cancelar el acuerdo, no tengo dinero", "hardship"),
    ("cancelen el plan de pagos por favor", "payments"),
])
def test_cancelling_a_commitment_read_as_opt_out_goes_to_a_person(words: str, queue: str
                                                                  ) -> None:
    out = opt_out.opt_out(Outcome(DialogState()), Turn(words, "opt_out", NOW, 0.75))
    assert not any(isinstance(e, RecordOptOut) for e in out.effects)
    [handoff] = [e for e in out.effects if isinstance(e, HandoffEffect)]
    assert handoff.queue == queue and words in (handoff.note or "")
    assert [s.reply.key for s in out.said] == ["commitment.withdraw"]
    assert not out.state.stopped


@pytest.mark.parametrize("words", [
    "stop texting me", "cancel these texts", "cancel the payment reminders",
    "cancelar mensajes", "cancelen los recordatorios de pago",
])
def test_cancelling_the_messages_is_still_an_opt_out(words: str) -> None:
    out = opt_out.opt_out(Outcome(DialogState()), Turn(words, "opt_out", NOW, 0.9))
    assert any(isinstance(e, RecordOptOut) for e in out.effects)
    assert [s.reply.key for s in out.said] == ["optout.confirm"]
