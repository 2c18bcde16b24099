"""Handoff notes carry what the debtor said and the facts read from it (never identity
answers), and the questions for a promise's day or a payment's amount disclose the debt."""

from __future__ import annotations

from dataclasses import replace

from bot.dialogs.base import Outcome
from bot.effects import Handoff
from tests.bot.helpers import Transcript, keys, make_facts


def verified() -> Transcript:
    t = Transcript(make_facts())
    t.verify()
    return t


def handing_off_hardship() -> Transcript:
    """An account whose policy gives every hardship to a person."""
    facts = make_facts()
    return Transcript(replace(facts, policy=replace(facts.policy, hardship_handoff=True)))


def note_of(out: Outcome) -> str:
    [handoff] = [e for e in out.effects if isinstance(e, Handoff)]
    assert handoff.note, f"{handoff.reason} handoff has no note"
    return handoff.note


def test_already_paid_note_has_the_words_amount_and_day() -> None:
    t = verified()
    out = t.says("Ya pagué 150 el 20 de noviembre", "already_paid",
                 amount="150.00", date="2026-11-20")
    note = note_of(out)
    assert "Ya pagué 150 el 20 de noviembre" in note
    assert "150.00" in note and "2026-11-20" in note


def test_dispute_note_has_the_reason() -> None:
    t = verified()
    out = t.says("Esa deuda no es mía, nunca tuve cuenta con Acme", "dispute_debt")
    assert "Esa deuda no es mía, nunca tuve cuenta con Acme" in note_of(out)


def test_unverified_dispute_note_says_so() -> None:
    t = Transcript(make_facts())
    out = t.says("no debo nada de eso", "dispute_debt")
    note = note_of(out)
    assert "no debo nada de eso" in note and "not verified" in note


def test_request_agent_note() -> None:
    t = verified()
    out = t.says("quiero hablar con una persona", "request_agent")
    assert "person" in note_of(out)


def test_hardship_handoff_note_has_the_circumstance() -> None:
    t = handing_off_hardship()
    t.verify()
    out = t.says("Perdí mi trabajo y no puedo pagar", "hardship")
    assert keys(out) == ["hardship.handoff"]
    note = note_of(out)
    assert "Perdí mi trabajo y no puedo pagar" in note and "perdi mi trabajo" in note


def test_bereavement_note_has_the_words() -> None:
    t = verified()
    out = t.says("mi mamá falleció la semana pasada", "deceased")
    assert keys(out) == ["hardship.bereaved"]
    assert "mi mamá falleció la semana pasada" in note_of(out)


def test_long_words_are_trimmed() -> None:
    t = verified()
    out = t.says("pagué " + "x" * 1000, "already_paid")
    assert len(note_of(out)) < 400


def test_locked_note_counts_attempts_never_answers() -> None:
    t = Transcript(make_facts())
    t.says("hola", "greet")
    out = None
    for answer in ("01/01/1990", "02/02/1991", "03/03/1992", "04/04/1993", "05/05/1994"):
        out = t.says(answer, "out_of_scope")
        if any(isinstance(e, Handoff) for e in out.effects):
            break
    assert out is not None
    note = note_of(out)
    assert "failed attempts" in note
    assert not any(a in note for a in ("1990", "1991", "1992", "1993", "1994"))


def test_deferred_request_note_never_quotes_the_identity_answer() -> None:
    t = handing_off_hardship()
    t.says("perdí mi trabajo", "hardship")
    t.says("03/14/1985", "out_of_scope")
    out = t.says("10001", "out_of_scope")
    assert "hardship.handoff" in keys(out)
    [handoff] = [e for e in out.effects if isinstance(e, Handoff)]
    assert "10001" not in (handoff.note or "") and "1985" not in (handoff.note or "")


def test_promise_date_question_discusses_the_debt() -> None:
    t = verified()
    out = t.says("puedo pagar 200", "promise_to_pay", amount="200.00")
    assert keys(out) == ["promise.ask_date"]
    assert out.said[0].debt


def test_promise_amount_question_discusses_the_debt() -> None:
    t = verified()
    out = t.says("le pago el viernes", "promise_to_pay", date="2026-11-27")
    assert keys(out) == ["promise.ask_amount"]
    assert out.said[0].debt


def test_partial_amount_question_discusses_the_debt() -> None:
    t = verified()
    out = t.says("puedo pagar una parte", "pay_partial")
    assert keys(out) == ["pay.partial.ask"]
    assert out.said[0].debt


def test_a_request_for_a_person_and_a_complaint_quote_the_debtor_through_the_router() -> None:
    from datetime import UTC, datetime

    from bot.dialogs import router
    from bot.dialogs.base import DialogState, Outcome, Turn

    now = datetime(2026, 11, 25, 15, tzinfo=UTC)
    for intent, words in (("request_agent", "quiero hablar con alguien"),
                          ("complaint", "you people keep calling my work")):
        out = router.UNGATED[intent](Outcome(DialogState()), Turn(words, intent, now), True)
        notes = [e.note for e in out.effects if type(e).__name__ == "Handoff"]
        assert notes and words in (notes[0] or "")
