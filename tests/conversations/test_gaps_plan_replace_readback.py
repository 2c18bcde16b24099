"""A plan or settlement that would replace the account's active plan is read back, saying so,
and recorded only on a clear yes (one tap on an option records nothing)."""

from __future__ import annotations

from decimal import Decimal

from bot.effects import IssuePaymentLink, RecordPlan
from tests.bot.helpers import Transcript, keys, make_facts, texts


def _with_a_plan() -> Transcript:
    t = Transcript(make_facts(active_plan=True))
    t.verify()
    return t


def _text(t: Transcript, out: object, locale: str) -> str:
    assert t.facts is not None
    return " ".join(texts(out, t.facts, locale))  # type: ignore[arg-type]


def test_the_options_say_a_new_plan_replaces_the_current_one() -> None:
    t = _with_a_plan()
    out = t.says("I want a payment plan", "request_payment_plan")
    assert keys(out) == ["plan.options"]
    assert out.said[0].reply.lead == "plan.option_replaces_current"
    assert "would replace your current payment plan" in _text(t, out, "en")
    assert "reemplazaría su plan de pagos actual" in _text(t, out, "es")


def test_one_tap_on_a_plan_is_read_back_and_records_nothing() -> None:
    t = _with_a_plan()
    t.says("I want a payment plan", "request_payment_plan")
    index = next(i for i, o in enumerate(t.state.options) if o["kind"] == "plan")
    chosen = t.says(str(index + 1), "choose", option=str(index))
    assert keys(chosen) == ["plan.confirm"] and chosen.effects == []
    assert chosen.said[0].reply.lead == "plan.replaces_current"
    text = _text(t, chosen, "en")
    assert text.startswith("This would replace your current payment plan.")
    assert "Shall I set it up?" in text
    assert _text(t, chosen, "es").startswith("Esto reemplazaría su plan de pagos actual.")
    offer = chosen.said[0].reply.slots["offer"]
    done = t.says("yes", "affirm")
    assert keys(done) == ["plan.recorded"] and done.said[0].reply.lead == "plan.replaces"
    assert [e.offer for e in done.effects if isinstance(e, RecordPlan)] == [offer]


def test_a_maybe_to_the_read_back_records_nothing() -> None:
    t = _with_a_plan()
    t.says("I want a payment plan", "request_payment_plan")
    index = next(i for i, o in enumerate(t.state.options) if o["kind"] == "plan")
    t.says(str(index + 1), "choose", option=str(index))
    out = t.says("maybe", "affirm")
    assert keys(out) == ["confirm.unclear"] and out.effects == []


def test_a_no_to_the_read_back_keeps_the_current_plan() -> None:
    t = _with_a_plan()
    t.says("I want a payment plan", "request_payment_plan")
    index = next(i for i, o in enumerate(t.state.options) if o["kind"] == "plan")
    t.says(str(index + 1), "choose", option=str(index))
    out = t.says("no", "deny")
    assert not any(isinstance(e, RecordPlan) for e in out.effects)


def test_a_plan_asked_for_in_numbers_says_it_replaces_the_current_one() -> None:
    t = _with_a_plan()
    out = t.says("12 monthly payments", "request_payment_plan", installments="12",
                 frequency="monthly")
    assert keys(out) == ["plan.confirm"] and out.effects == []
    assert out.said[0].reply.lead == "plan.replaces_current"


def test_paying_in_full_from_the_options_needs_no_read_back() -> None:
    t = _with_a_plan()
    t.says("I want a payment plan", "request_payment_plan")
    index = next(i for i, o in enumerate(t.state.options) if o["kind"] == "full")
    out = t.says(str(index + 1), "choose", option=str(index))
    assert not any(isinstance(e, RecordPlan) for e in out.effects)
    assert [e.amount for e in out.effects if isinstance(e, IssuePaymentLink)] \
        == [Decimal("1200.00")]


def test_without_an_active_plan_one_tap_still_records() -> None:
    t = Transcript(make_facts())
    t.verify()
    t.says("I want a payment plan", "request_payment_plan")
    index = next(i for i, o in enumerate(t.state.options) if o["kind"] == "plan")
    out = t.says(str(index + 1), "choose", option=str(index))
    assert keys(out) == ["plan.recorded"] and out.said[0].reply.lead is None
