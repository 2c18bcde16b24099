"""Dialog gaps: a request answered on verification keeps its own words; a past day answering
a counter-offer is asked again; "a person" from the hardship options is the hardship queue;
legal and on-hold handoff notes quote the debtor."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Account, Conversation, Handoff, Promise
from backend.services.imports.writer import upsert_accounts
from bot.clock import SettableClock
from bot.dialogs.base import Outcome
from bot.effects import Handoff as HandoffEffect
from bot.effects import SetHardship
from bot.messages import ConversationKey
from nlu.types import Interpreter
from tests.bot.helpers import Transcript, keys, make_facts
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox

LOST_JOB = "i lost my job and cant pay"


async def _chat(container: Container, interpreter: Interpreter) -> Chat:
    """The New York debtor's phone, read by the real NLU; not verified yet."""
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row()], container.clock.now())
    container.services["outbox"] = CollectingOutbox()
    container.interpreter = interpreter
    install_conversations(None, container)
    return Chat(container, ConversationKey("sms", PHONE), container.services["outbox"])


async def _keys(chat: Chat, text: str) -> list[str]:
    return [r.key for r in (await chat.says(text)).replies]


async def _handoffs(chat: Chat) -> list[tuple[str, str, str]]:
    async with chat.container.sessions() as session:
        rows = await session.scalars(select(Handoff).order_by(Handoff.id))
        return [(h.reason, h.queue, h.note or "") for h in rows]


async def _account(chat: Chat) -> Account:
    async with chat.container.sessions() as session:
        account = await session.scalar(select(Account))
    assert account is not None
    return account


def _note(out: Outcome) -> str:
    [handoff] = [e for e in out.effects if isinstance(e, HandoffEffect)]
    assert handoff.note is not None
    return handoff.note


# -- (a) A request remembered before verification is answered in its own words --------------


async def test_a_hardship_told_before_verification_keeps_its_words(
    container: Container, interpreter: Interpreter,
) -> None:
    chat = await _chat(container, interpreter)
    assert await _keys(chat, LOST_JOB) == ["identity.ask.date_of_birth"]
    assert await _keys(chat, "03/14/1985") == ["identity.next.postal_code"]
    assert await _keys(chat, "10001") == ["hardship.options"]
    account = await _account(chat)
    assert account.hardship
    assert account.stop_details is not None and LOST_JOB in account.stop_details
    assert "10001" not in account.stop_details


def test_a_hardship_handed_off_on_verification_quotes_the_request_not_the_zip() -> None:
    facts = make_facts()
    t = Transcript(replace(facts, policy=replace(facts.policy, hardship_handoff=True)))
    t.says(LOST_JOB, "hardship")
    t.says("03/14/1985", "out_of_scope")
    out = t.says("10001", "out_of_scope")
    assert keys(out) == ["hardship.handoff"]
    assert out.identity_answer  # the ZIP itself stays nobody's example
    [hardship] = [e for e in out.effects if isinstance(e, SetHardship)]
    assert hardship.details == LOST_JOB
    note = _note(out)
    assert f'debtor said: "{LOST_JOB}"' in note and "circumstance: lost my job" in note
    assert "10001" not in note


def test_a_settlement_asked_before_verification_is_still_a_settlement() -> None:
    t = Transcript(make_facts())
    t.says("can i settle for $600", "counter_offer", amount="600.00")
    t.says("03/14/1985", "out_of_scope")
    out = t.says("10001", "out_of_scope")
    assert keys(out)[0].startswith(("settlement.", "negotiate.")), keys(out)
    assert "settlement 600.00" in " ".join(t.state.history)


def test_a_request_restated_before_verification_keeps_its_latest_words() -> None:
    facts = make_facts()
    t = Transcript(replace(facts, policy=replace(facts.policy, hardship_handoff=True)))
    t.says("hi", "greet")
    t.says("i was laid off last week", "hardship")
    t.says("03/14/1985", "out_of_scope")
    out = t.says("10001", "out_of_scope")
    assert 'debtor said: "i was laid off last week"' in _note(out)
    assert t.state.pending_text is None


# -- (b) A past day answering a counter-offer is asked again --------------------------------


async def test_a_past_day_answering_the_extension_counter_is_asked_again(
    container: Container, interpreter: Interpreter, clock: SettableClock,
) -> None:
    clock.advance(timedelta(days=10))  # Saturday 2026-12-05: "december 2nd" has passed
    chat = await _chat(container, interpreter)
    await chat.verify()
    assert await _keys(chat, "can i have until jan 30 to pay the full balance") == [
        "extension.counter"]
    asked = await chat.says("ok december 2nd")
    assert [r.key for r in asked.replies] == ["extension.ask_date"]
    assert "already passed" in asked.replies[0].text
    assert await _handoffs(chat) == []
    assert await _keys(chat, "ok december 10th") == ["extension.confirm"]
    assert await _keys(chat, "yes") == ["extension.recorded"]
    async with chat.container.sessions() as session:
        promise = await session.scalar(select(Promise))
    assert promise is not None and promise.due_date == date(2026, 12, 10)


def test_only_repeated_past_days_go_to_a_person() -> None:
    t = Transcript(make_facts())
    t.verify()
    assert keys(t.says("I'll pay $200 on 2027-02-15", "promise_to_pay", amount="200.00",
                       date="2027-02-15")) == ["promise.counter"]
    answers = [t.says("ok the 20th", "promise_to_pay", date="2026-11-20") for _ in range(4)]
    assert [keys(out) for out in answers[:-1]] == [["extension.ask_date"]] * 3
    assert keys(answers[-1]) == ["negotiate.handoff"]  # max_rounds: 3
    assert "promise 200.00 on 2026-11-20" in _note(answers[-1])


def test_a_day_after_the_past_one_keeps_the_promised_amount() -> None:
    t = Transcript(make_facts())
    t.verify()
    t.says("I'll pay $200 on 2027-02-15", "promise_to_pay", amount="200.00", date="2027-02-15")
    assert keys(t.says("ok the 20th", "promise_to_pay", date="2026-11-20")) == [
        "extension.ask_date"]
    out = t.says("2026-12-10", "promise_to_pay", date="2026-12-10")
    assert keys(out) == ["promise.confirm"]
    assert out.said[0].reply.slots["total"] == Decimal("200.00")


# -- (c) A person asked for from the hardship options comes from the hardship queue ----------


async def test_talk_to_a_person_in_the_hardship_dialog_is_the_hardship_queue(
    container: Container, interpreter: Interpreter,
) -> None:
    chat = await _chat(container, interpreter)
    await chat.verify()
    assert await _keys(chat, LOST_JOB) == ["hardship.options"]
    assert await _keys(chat, "talk to a person") == ["handoff.agent"]
    [(reason, queue, note)] = await _handoffs(chat)
    assert (reason, queue) == ("hardship", "hardship")
    assert note.startswith('debtor said: "talk to a person"') and "hardship" in note


def test_the_hardship_options_agent_button_is_the_hardship_queue() -> None:
    t = Transcript(make_facts())
    t.verify()
    assert keys(t.says(LOST_JOB, "hardship")) == ["hardship.options"]
    out = t.says("Talk to a person", "request_agent")
    [handoff] = [e for e in out.effects if isinstance(e, HandoffEffect)]
    assert (handoff.reason, handoff.queue, handoff.priority) == ("hardship", "hardship", 1)


def test_a_person_asked_for_outside_hardship_stays_general() -> None:
    t = Transcript(make_facts())
    t.verify()
    t.says("can i get a payment plan", "request_payment_plan")
    out = t.says("Talk to a person", "request_agent")
    [handoff] = [e for e in out.effects if isinstance(e, HandoffEffect)]
    assert (handoff.reason, handoff.queue) == ("requested_agent", "general")


# -- (d) Legal and on-hold handoff notes quote the debtor -----------------------------------


async def test_an_attorney_note_quotes_the_words_and_the_contact(
    container: Container, interpreter: Interpreter,
) -> None:
    chat = await _chat(container, interpreter)
    text = "talk to my lawyer Jane Doe at 555-0100"
    assert await _keys(chat, text) == ["stop.attorney"]
    [(reason, queue, note)] = await _handoffs(chat)
    assert (reason, queue) == ("attorney", "legal")
    assert f'debtor said: "{text}"' in note and "attorney contact: 555-0100" in note


def test_a_long_attorney_message_keeps_the_contact_past_the_quote() -> None:
    t = Transcript(make_facts())
    text = "I have a lawyer now. " + "He said to tell you this. " * 20 + "jd@law.example"
    note = _note(t.says(text, "attorney_represented"))
    assert len(note.split('"')[1]) == 300
    assert note.endswith("attorney contact: jd@law.example")


def test_bankruptcy_deceased_and_cease_notes_quote_the_words() -> None:
    said = {
        "bankruptcy": ("I filed chapter 7, case 23-12345", "bankruptcy"),
        "deceased": ("he passed away in october, I'm his executor", "deceased"),
        "opt_out": ("I refuse to pay this, stop contacting me", "cease"),
    }
    for intent, (text, reason) in said.items():
        out = Transcript(make_facts()).says(text, intent)
        [handoff] = [e for e in out.effects if isinstance(e, HandoffEffect)]
        assert handoff.reason == reason
        assert handoff.note is not None and f'debtor said: "{text}"' in handoff.note


async def test_a_message_on_a_held_account_is_quoted_to_the_legal_queue(
    container: Container, interpreter: Interpreter,
) -> None:
    chat = await _chat(container, interpreter)
    await chat.says("talk to my lawyer Jane Doe at 555-0100")
    async with chat.container.sessions.begin() as session:
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None
        conversation.ownership = "bot"  # handed back; the attorney stays on the account
        for handoff in (await session.scalars(select(Handoff))).all():
            handoff.status = "returned"
    later = "my lawyer is Jane Doe, 1 Main St, call her"
    assert await _keys(chat, later) == []
    reason, queue, note = (await _handoffs(chat))[-1]
    assert (reason, queue) == ("inbound_on_hold", "legal")
    assert note == f'debtor said: "{later}"; attorney'
