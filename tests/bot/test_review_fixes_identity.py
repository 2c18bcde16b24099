"""Review fixes: identity answers are never legal statements; more date-of-birth shapes."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Account
from backend.services.imports.writer import upsert_accounts
from bot.dialogs.base import Outcome, Turn
from bot.effects import SetStopState
from bot.entity_choice import chosen_entities
from bot.facts import Identity
from bot.messages import ConversationKey
from nlu.types import Interpreter
from tests.bot.helpers import T0, Transcript, keys, make_facts, texts
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox

DOB_1957 = date(1957, 4, 23)


def _shapes() -> list[str]:
    """ZIP+4s and dashed, dotted and ISO dates, as a debtor or a relative types them."""
    rng = random.Random(7)
    shapes = [f"{rng.randint(10000, 99999)}-{rng.randint(0, 9999):04d}" for _ in range(30)]
    for _ in range(30):
        m, d, y = rng.randint(1, 12), rng.randint(1, 28), rng.randint(1940, 2000)
        shapes.append(rng.choice([f"{m:02d}-{d:02d}-{y}", f"{m}-{d}-{y}", f"{y}-{m:02d}-{d:02d}",
                                  f"{d:02d}.{m:02d}.{y}", f"{m}/{d}/{y % 100:02d}"]))
    return shapes + [
        "89101-1234", "01-18-1982", "4/23/57", "21333-7191", "1970-07-02", "3-11-1967",
        "dob 01-18-1982", "my dob is 1970-07-02", "born 10-06-1995", "cp 21333-7191",
        "my zip is 89101-1234", "mi código postal es 21333-7191", "nací el 18-01-1982",
        "fecha de nacimiento 1970-07-02", "08011955", "11 15 1981",
    ]


async def _turn(interpreter: Interpreter, text: str, language: str) -> Turn:
    parse = await interpreter.parse(text, reference_time=T0, timezone="America/New_York",
                                    language=language)
    return Turn(text, parse.intent.name, T0, parse.intent.confidence,
                chosen_entities(parse, T0.date()), parse.language)


def _asked(language: str, **facts: object) -> Transcript:
    t = Transcript(make_facts(preferred_language=language, **facts))
    t.says("hi" if language == "en" else "hola", "greet")
    return t


def _step(t: Transcript, turn: Turn) -> Outcome:
    from bot.dialogs import router

    out = router.step(t.state, turn, t.facts)
    t.state = out.state
    return out


@pytest.mark.parametrize("language", ["en", "es"])
async def test_no_identity_answer_sets_a_stop_state(interpreter: Interpreter,
                                                     language: str) -> None:
    misread = []
    for text in _shapes():
        t = _asked(language)
        out = _step(t, await _turn(interpreter, text, language))
        if any(isinstance(e, SetStopState) for e in out.effects) or t.state.stopped:
            misread.append(text)
        assert not [k for k in keys(out) if k.startswith(("stop.", "optout", "wrong_person"))]
    assert misread == []


@pytest.mark.parametrize(("text", "state"), [
    ("i filed chapter 7", "bankruptcy"),
    ("my lawyer is handling this", "attorney"),
    ("estoy en bancarrota", "bankruptcy"),
    ("mi abogado lleva esto, 555-0100", "attorney"),
    ("i filed chapter 13 on 03/14/2020", "bankruptcy"),
    ("my lawyer is at 89101", "attorney"),
])
async def test_a_genuine_statement_still_stops_at_the_identity_question(
    interpreter: Interpreter, text: str, state: str,
) -> None:
    t = _asked("en")
    out = _step(t, await _turn(interpreter, text, "en"))
    assert [e.state for e in out.effects if isinstance(e, SetStopState)] == [state]
    assert keys(out) == [f"stop.{state}"]


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("intent", ["bankruptcy", "attorney_represented"])
def test_the_acknowledgement_to_an_unverified_person_names_nothing(
    intent: str, locale: str,
) -> None:
    t = Transcript(make_facts())
    out = t.says("my mom filed bankruptcy, her lawyer handles it", intent)
    assert t.facts is not None
    [said] = texts(out, t.facts, locale)
    for word in ("bankrupt", "bancarrota", "represent", "legal", "debt", "deuda"):
        assert word not in said.lower()


@pytest.mark.parametrize(("intent", "key"), [
    ("bankruptcy", "stop.bankruptcy_verified"), ("attorney_represented", "stop.attorney_verified"),
])
def test_a_verified_debtor_is_told_what_was_noted(intent: str, key: str) -> None:
    t = Transcript(make_facts())
    t.verify()
    out = t.says("i filed chapter 7, my lawyer handles it", intent)
    assert keys(out) == [key] and not out.said[0].debt


@pytest.mark.parametrize("intent", ["bankruptcy", "attorney_represented", "deceased"])
def test_a_verified_debtor_resending_an_answer_is_no_stop(intent: str) -> None:
    t = Transcript(make_facts())
    t.verify()
    out = t.says("10001", intent)
    assert keys(out) == ["identity.verified"] and not out.effects


def test_digits_are_no_stop_statement_once_verified() -> None:
    t = Transcript(make_facts())
    t.verify()
    out = t.says("89101-1234", "bankruptcy")
    assert not out.effects and keys(out) == ["fallback.clarify"]


async def test_the_reviewers_conversation_verifies(interpreter: Interpreter) -> None:
    t = _asked("en", identity=Identity(DOB_1957, "89101", "ACME-000123456"))
    assert keys(_step(t, await _turn(interpreter, "4/23/57", "en"))) == [
        "identity.next.postal_code"]
    out = _step(t, await _turn(interpreter, "89101-1234", "en"))
    assert t.state.is_verified(T0) and keys(out) == ["identity.verified"]


async def test_a_relatives_wrong_date_is_a_failed_attempt(interpreter: Interpreter) -> None:
    t = _asked("en")
    out = _step(t, await _turn(interpreter, "01-18-1982", "en"))
    assert keys(out) == ["identity.retry.date_of_birth"] and not t.state.stopped
    assert out.identity_answer


# Date-of-birth shapes


@pytest.mark.parametrize(("text", "language", "dob"), [
    ("08011955", "en", date(1955, 8, 1)),
    ("08011955", "es", date(1955, 1, 8)),
    ("19550801", "en", date(1955, 8, 1)),
    ("11 15 1981", "en", date(1981, 11, 15)),
    ("15 11 1981", "es", date(1981, 11, 15)),
    ("July sixteenth 1956", "en", date(1956, 7, 16)),
    ("the twenty-first of March 1971", "en", date(1971, 3, 21)),
    ("December twelfth 1968", "en", date(1968, 12, 12)),
    ("the tenth of May 1970", "en", date(1970, 5, 10)),
    ("16 de julio de 1956", "es", date(1956, 7, 16)),
    ("dieciséis de julio 1956", "es", date(1956, 7, 16)),
    ("primero de mayo de 1960", "es", date(1960, 5, 1)),
])
def test_common_birth_date_shapes_are_accepted(text: str, language: str, dob: date) -> None:
    t = _asked(language, identity=Identity(dob, "10001", "ACME-000123456"))
    out = t.says(text, "out_of_scope")
    assert keys(out) == ["identity.next.postal_code"]


@pytest.mark.parametrize("text", ["02301985", "13131985", "02 30 1985", "July thirtieth 85x"])
def test_impossible_dates_are_asked_again(text: str) -> None:
    t = _asked("en")
    out = t.says(text, "out_of_scope")
    assert keys(out) == ["identity.ask.date_of_birth"] and t.state.attempts == 0


def test_an_ambiguous_compact_date_is_read_one_way_only() -> None:
    t = _asked("en", identity=Identity(date(1985, 3, 5), "10001", "ACME-000123456"))
    assert keys(t.says("05031985", "out_of_scope")) == ["identity.retry.date_of_birth"]


# The whole turn: the real NLU, the engine, the account record


@pytest.fixture
async def real_chat(container: Container, interpreter: Interpreter) -> Chat:
    row = replace(account_row(), date_of_birth=DOB_1957, postal_code="89101")
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [row], container.clock.now())
    outbox = CollectingOutbox()
    container.services["outbox"] = outbox
    container.interpreter = interpreter
    install_conversations(None, container)
    return Chat(container, ConversationKey("sms", PHONE), outbox)


async def test_a_zip_plus_4_puts_no_account_on_hold(real_chat: Chat) -> None:
    await real_chat.says("hi")
    await real_chat.says("01-18-1982")
    await real_chat.says("4/23/57")
    out = await real_chat.says("89101-1234")
    assert [r.key for r in out.replies] == ["identity.verified"]
    async with real_chat.container.sessions() as session:
        account = await session.scalar(select(Account))
    assert account is not None
    assert not (account.bankruptcy or account.attorney)


async def test_digits_after_stop_record_no_bankruptcy(real_chat: Chat) -> None:
    await real_chat.says("STOP")
    out = await real_chat.says("21333-7191")  # the NLU reads bankruptcy into these digits
    assert out.replies == [] and out.effects == []
    async with real_chat.container.sessions() as session:
        account = await session.scalar(select(Account))
    assert account is not None and not account.bankruptcy
