"""Moving a pending promise ("monday instead of friday"): read back, confirmed, moved once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Account, AuditEvent, Promise
from backend.db.models.enums import PromiseStatus
from backend.services.imports.writer import upsert_accounts
from backend.services.ledger import Origin, record_promise
from backend.services.policy import PolicyError, dialog_policy, load_policy_file
from backend.services.promise_moves import PromiseNotPending, move_promise
from bot import entity_choice
from bot.dialogs.base import Outcome
from bot.effects import IssuePaymentLink, MovePromise, RecordPromise
from bot.facts import PendingPromise
from bot.messages import ConversationKey
from bot.responses import RenderContext
from nlu.extractors import extract_entities
from nlu.types import IntentScore, Interpreter, Parse
from tests.bot.helpers import DEFAULT_POLICY, RENDERER, T0, Transcript, keys, make_facts, texts
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox

TODAY = T0.date()  # Wednesday, November 25, 2026
FRIDAY, MONDAY, THE_5TH = date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 5)
LATEST = TODAY + timedelta(days=30)  # promise.max_days_out
HUNDRED = Decimal("100.00")


def _read(text: str, intent: str = "promise_to_pay") -> dict[str, str]:
    entities = extract_entities(text, reference_time=T0, timezone="America/New_York")
    return entity_choice.chosen_entities(
        Parse(text, IntentScore(intent, 0.9), entities=entities), TODAY
    )


def pending(*promises: PendingPromise, **facts: Any) -> Transcript:
    """A verified debtor with these promises pending."""
    promised = sum((p.amount for p in promises), Decimal(0))
    t = Transcript(make_facts(promised=promised, pending_promises=promises, **facts))
    t.verify()
    return t


def friday(moves: int = 0) -> PendingPromise:
    return PendingPromise(FRIDAY, HUNDRED, moves)


def said(t: Transcript, text: str, intent: str = "promise_to_pay") -> Outcome:
    return t.says(text, intent, **_read(text, intent))


def _text(t: Transcript, out: Outcome, locale: str = "en") -> str:
    assert t.facts is not None
    return texts(out, t.facts, locale)[0]


# Reading the day given up and the day wanted


@pytest.mark.parametrize(
    ("text", "wanted", "given_up"),
    [
        ("can i pay monday instead of friday", "2026-11-30", "2026-11-27"),
        ("cant make it friday, can we do the 5th", "2026-12-05", "2026-11-27"),
        ("i can't make friday. how about monday?", "2026-11-30", "2026-11-27"),
        ("puedo pagar el lunes en vez del viernes", "2026-11-30", "2026-11-27"),
        ("no puedo el viernes, puedo el lunes", "2026-11-30", "2026-11-27"),
    ],
)
def test_the_day_given_up_is_not_the_day_offered(text: str, wanted: str, given_up: str) -> None:
    read = _read(text)
    assert (read["date"], read["moved_from"]) == (wanted, given_up)


@pytest.mark.parametrize("text", ["i can't pay until friday", "no puedo pagar hasta el viernes"])
def test_a_day_it_cannot_be_paid_until_is_offered(text: str) -> None:
    read = _read(text)
    assert read["date"] == "2026-11-27" and "moved_from" not in read


# Moving: read back, confirmed, the same promise moved


def test_monday_instead_of_friday_moves_the_promise() -> None:
    t = pending(friday())
    out = said(t, "can i pay monday instead of friday")
    assert keys(out) == ["promise.move_confirm"] and out.effects == []
    assert "your promise of $100.00 moves from November 27, 2026 to November 30, 2026" in _text(
        t, out
    )
    done = t.says("yes", "affirm")
    assert keys(done) == ["promise.moved"]
    assert done.effects == [MovePromise(HUNDRED, FRIDAY, MONDAY)]  # never a second promise
    assert t.state.flow is None and t.state.moving == {}


def test_cant_make_it_friday_can_we_do_the_5th() -> None:
    t = pending(friday())
    out = said(t, "cant make it friday, can we do the 5th")
    assert keys(out) == ["promise.move_confirm"]
    assert t.says("yes", "affirm").effects == [MovePromise(HUNDRED, FRIDAY, THE_5TH)]


def test_lunes_en_vez_del_viernes_in_spanish() -> None:
    t = pending(friday())
    out = said(t, "puedo pagar el lunes en vez del viernes")
    assert keys(out) == ["promise.move_confirm"]
    assert (
        "su promesa de $100.00 pasa del 27 de noviembre de 2026 al 30 de noviembre de 2026"
        in _text(t, out, "es")
    )
    done = t.says("sí", "affirm")
    assert done.effects == [MovePromise(HUNDRED, FRIDAY, MONDAY)]
    assert "vence ahora el 30 de noviembre de 2026 en lugar del 27" in _text(t, done, "es")


def test_a_move_read_as_more_time_is_still_a_move() -> None:
    t = pending(friday())
    out = said(t, "can i move my payment to monday", "request_extension")
    assert keys(out) == ["promise.move_confirm"]
    assert t.says("yes", "affirm").effects == [MovePromise(HUNDRED, FRIDAY, MONDAY)]


def test_a_move_read_as_asking_how_to_pay_is_still_a_move() -> None:
    t = pending(friday())
    out = said(t, "can i pay monday instead", "ask_payment_methods")
    assert keys(out) == ["promise.move_confirm"]


def test_no_keeps_the_promise_as_it_is() -> None:
    t = pending(friday())
    said(t, "can i pay monday instead of friday")
    out = t.says("no", "deny")
    assert keys(out) == ["promise.move_kept"] and out.effects == []
    assert "stays as it is" in _text(t, out)


def test_no_day_yet_asks_for_one_in_spanish() -> None:
    t = pending(friday())
    out = said(t, "quiero cambiar mi pago", "request_extension")
    assert keys(out) == ["promise.move_ask_date"]
    assert "¿A qué día quiere cambiar su promesa de $100.00 del 27 de noviembre" in _text(
        t, out, "es"
    )
    again = said(t, "el lunes")
    assert keys(again) == ["promise.move_confirm"]
    assert t.says("sí", "affirm").effects == [MovePromise(HUNDRED, FRIDAY, MONDAY)]


def test_to_today_carries_the_pay_link() -> None:
    t = pending(friday())
    out = said(t, "can i pay today instead of friday")
    assert keys(out) == ["promise.move_confirm_today"]
    done = t.says("yes", "affirm")
    assert done.effects == [MovePromise(HUNDRED, FRIDAY, TODAY), IssuePaymentLink(HUNDRED)]
    assert "https://pay.example/x" in _text(t, done)


# Out of the policy's bounds


def test_too_far_out_offers_the_latest_day_a_promise_may_have() -> None:
    t = pending(friday())
    out = said(t, "can i pay on march 1 instead of friday")
    assert keys(out) == ["promise.move_counter"]
    assert "the latest day I can accept is December 25, 2026" in _text(t, out)
    assert t.says("yes", "affirm").effects == [MovePromise(HUNDRED, FRIDAY, LATEST)]


def test_too_far_out_in_spanish() -> None:
    t = pending(friday())
    out = said(t, "puedo pagar el 1 de marzo en vez del viernes")
    assert keys(out) == ["promise.move_counter"]
    assert "lo más tarde que puedo aceptar es el 25 de diciembre de 2026" in _text(t, out, "es")


def test_a_promise_moved_as_often_as_the_policy_allows_stays() -> None:
    t = pending(friday(moves=1))  # the default policy: one move per promise
    out = said(t, "can i pay monday instead of friday")
    assert keys(out) == ["promise.move_limit"] and out.effects == []
    assert [c.label for c in RENDERER.render(out.said[0], RenderContext()).choices] == [
        "Talk to a person"
    ]
    assert t.says("yes", "affirm").effects == []


def test_a_policy_of_two_moves_allows_a_second() -> None:
    policy = DEFAULT_POLICY.model_copy(
        update={"promise": DEFAULT_POLICY.promise.model_copy(update={"max_moves": 2})}
    )
    t = pending(friday(moves=1), policy=policy)
    assert keys(said(t, "can i pay monday instead of friday")) == ["promise.move_confirm"]


# Which promise, and when a move is no move


def test_of_two_promises_the_one_on_the_day_given_up_moves() -> None:
    t = pending(friday(), PendingPromise(THE_5TH, Decimal("50.00")))
    out = said(t, "puedo pagar el lunes en vez del 5 de diciembre")
    assert keys(out) == ["promise.move_confirm"]
    assert t.says("sí", "affirm").effects == [MovePromise(Decimal("50.00"), THE_5TH, MONDAY)]


def test_of_two_promises_none_named_asks_which() -> None:
    t = pending(friday(), PendingPromise(THE_5TH, Decimal("50.00")))
    out = said(t, "can i move my payment to monday", "request_extension")
    assert keys(out) == ["promise.move_which"] and out.effects == []


def test_a_new_promise_is_still_a_new_promise() -> None:
    t = pending(friday())
    out = said(t, "i can pay 50 on december 4")
    assert keys(out) == ["promise.confirm"]
    assert out.said[0].reply.lead == "promise.stands"
    assert 'just say so, for example "move it to the 5th"' in _text(t, out)


def test_move_it_to_the_5th_with_a_new_promise_on_the_table_moves_the_pending_one() -> None:
    t = pending(friday())
    said(t, "i can pay 50 on december 4")
    out = said(t, "move it to the 5th")
    assert keys(out) == ["promise.move_confirm"]
    assert t.says("yes", "affirm").effects == [MovePromise(HUNDRED, FRIDAY, THE_5TH)]


def test_instead_answering_a_new_promise_on_the_table_changes_that_offer() -> None:
    t = pending(friday())
    said(t, "i can pay 50 on december 4")
    out = said(t, "can i do the 5th instead", "counter_offer")
    assert keys(out) == ["promise.confirm"]
    assert t.says("yes", "affirm").effects == [RecordPromise(Decimal("50.00"), THE_5TH)]


def test_without_a_pending_promise_there_is_nothing_to_move() -> None:
    t = Transcript(make_facts())
    t.verify()
    out = said(t, "can i pay monday instead of friday")
    assert keys(out) == ["promise.ask_amount"]


def test_the_promise_gone_since_is_not_moved() -> None:
    t = pending(friday())
    said(t, "can i pay monday instead of friday")
    assert t.facts is not None
    t.facts = make_facts()  # paid or judged since: no promise pending any more
    out = t.says("yes", "affirm")
    assert keys(out) == ["promise.move_gone"] and out.effects == []


# Identity first


def test_nothing_about_the_promise_is_said_before_verification() -> None:
    t = Transcript(make_facts(promised=HUNDRED, pending_promises=(friday(),)))
    first = said(t, "can i pay monday instead of friday")
    assert keys(first) == ["identity.ask.date_of_birth"]
    assert not any(s.debt for s in first.said) and first.effects == []
    t.says("03/14/1985", "out_of_scope")
    out = t.says("10001", "out_of_scope")
    assert keys(out) == ["promise.move_confirm"]
    assert t.says("yes", "affirm").effects == [MovePromise(HUNDRED, FRIDAY, MONDAY)]


# The policy knob


def test_the_move_limit_is_read_from_the_policy_file(tmp_path: Path) -> None:
    assert DEFAULT_POLICY.promise.max_moves == 1
    assert dialog_policy(DEFAULT_POLICY).max_promise_moves == 1
    path = tmp_path / "policy.yml"
    path.write_text("promise:\n  max_moves: -1\n")
    with pytest.raises(PolicyError, match="promise.max_moves"):
        load_policy_file(path)


# The whole turn: the real NLU, the engine, the ledger


@pytest.fixture
async def chat(container: Container, interpreter: Interpreter) -> Chat:
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row()], container.clock.now())
    outbox = CollectingOutbox()
    container.services["outbox"] = outbox
    container.interpreter = interpreter
    install_conversations(None, container)
    return Chat(container, ConversationKey("sms", PHONE), outbox)


async def _promises(chat: Chat) -> list[tuple[Decimal, date, str]]:
    async with chat.container.sessions() as session:
        rows = await session.execute(
            select(Promise.amount, Promise.due_date, Promise.status).order_by(Promise.id)
        )
        return [(amount, due, status) for amount, due, status in rows]


async def _moves(chat: Chat) -> list[dict[str, Any]]:
    async with chat.container.sessions() as session:
        return list(
            await session.scalars(
                select(AuditEvent.data)
                .where(AuditEvent.action == "promise.moved")
                .order_by(AuditEvent.id)
            )
        )


def _keys(result: Any) -> list[str]:
    return [r.key for r in result.replies]


async def test_a_promise_is_moved_once_from_an_sms(chat: Chat) -> None:
    await chat.verify()
    await chat.says("i'll pay 100 on friday")
    await chat.says("yes")
    out = await chat.says("can i pay monday instead of friday")
    assert _keys(out) == ["promise.move_confirm"]
    assert "from November 27, 2026 to November 30, 2026" in out.replies[0].text
    assert _keys(await chat.says("yes")) == ["promise.moved"]
    assert await _promises(chat) == [(HUNDRED, MONDAY, PromiseStatus.PENDING)]
    [moved] = await _moves(chat)
    assert (moved["from"], moved["to"], moved["amount"]) == ("2026-11-27", "2026-11-30", "100.00")
    again = await chat.says("can i pay on the 5th instead of monday")
    assert _keys(again) == ["promise.move_limit"]
    assert await _promises(chat) == [(HUNDRED, MONDAY, PromiseStatus.PENDING)]


async def test_a_promise_is_moved_from_a_spanish_sms(chat: Chat) -> None:
    await chat.verify()
    await chat.says("te pago 100 el viernes")
    await chat.says("sí")
    out = await chat.says("puedo pagar el lunes en vez del viernes")
    assert _keys(out) == ["promise.move_confirm"]
    assert "pasa del 27 de noviembre de 2026 al 30 de noviembre de 2026" in out.replies[0].text
    assert _keys(await chat.says("sí")) == ["promise.moved"]
    assert await _promises(chat) == [(HUNDRED, MONDAY, PromiseStatus.PENDING)]


async def test_moving_a_promise_that_is_not_pending_moves_nothing(container: Container) -> None:
    now = container.clock.now()
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row()], now)
    async with container.sessions.begin() as session:
        account = await session.scalar(select(Account))
        assert account is not None
        await record_promise(session, account, HUNDRED, FRIDAY, Origin(now))
    async with container.sessions() as session:
        account = await session.scalar(select(Account))
        assert account is not None
        with pytest.raises(PromiseNotPending):
            await move_promise(session, account, Decimal("50.00"), FRIDAY, MONDAY, Origin(now))
        await session.rollback()
    async with container.sessions() as session:
        assert list(await session.scalars(select(Promise.due_date))) == [FRIDAY]
        assert (
            list(
                await session.scalars(
                    select(AuditEvent.id).where(AuditEvent.action == "promise.moved")
                )
            )
            == []
        )


def test_cambiar_mi_pago_read_as_out_of_scope_is_still_a_move() -> None:
    t = pending(friday())
    out = said(t, "cambiar mi pago al lunes", "out_of_scope")  # how the NLU reads it today
    assert keys(out) == ["promise.move_confirm"]
    assert t.says("sí", "affirm").effects == [MovePromise(HUNDRED, FRIDAY, MONDAY)]
