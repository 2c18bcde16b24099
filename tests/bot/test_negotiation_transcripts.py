"""Pay, promise, plan, extension, settlement: debtor says X → bot replies Y → effects Z."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from bot.effects import IssuePaymentLink, RecordPlan, RecordPromise
from tests.bot.helpers import T0, Transcript, effects, keys, make_facts, texts


def verified() -> Transcript:
    t = Transcript(make_facts())
    t.verify()
    return t


def test_pay_in_full_gives_a_link_for_the_ledger_balance() -> None:
    t = verified()
    out = t.says("I want to pay everything", "pay_in_full", amount="5.00")
    assert keys(out) == ["pay.link"]
    assert out.effects == [IssuePaymentLink(Decimal("1200.00"))]
    assert "$1,200.00" in texts(out, t.facts)[0]  # type: ignore[arg-type]


def test_pay_partial_asks_for_the_amount_then_links_it() -> None:
    t = verified()
    assert keys(t.says("I can pay some now", "pay_partial")) == ["pay.partial.ask"]
    out = t.says("$200", "out_of_scope", amount="200.00")
    assert keys(out) == ["pay.partial.link"]
    assert out.effects == [IssuePaymentLink(Decimal("200.00"))]


def test_promise_asks_for_what_is_missing_confirms_and_records() -> None:
    t = verified()
    assert keys(t.says("I'll pay next week", "promise_to_pay", date="2026-12-02")) == [
        "promise.ask_amount"]
    confirm = t.says("300", "out_of_scope", amount="300.00")
    assert keys(confirm) == ["promise.confirm"]
    done = t.says("yes", "affirm")
    assert keys(done) == ["promise.recorded"]
    assert done.effects == [RecordPromise(Decimal("300.00"), date(2026, 12, 2), "promise")]


def test_promise_too_far_out_is_countered_with_the_latest_allowed_day() -> None:
    t = verified()
    out = t.says("I'll pay 300 in March", "promise_to_pay", amount="300.00", date="2027-03-01")
    assert keys(out) == ["promise.counter"]
    offer = out.said[0].reply.slots["offer"]
    assert offer.first_due == T0.date() + timedelta(days=30)
    assert offer.total == Decimal("300.00")


def test_plan_request_offers_full_then_shortest_and_most_affordable() -> None:
    t = verified()
    out = t.says("can I get a payment plan", "request_payment_plan")
    assert keys(out) == ["plan.options"]
    options = [o["offer"] for o in out.said[0].reply.slots["options"]]
    assert [o.kind for o in options] == ["full", "plan", "plan"]
    assert options[1].count == 2 and options[2].count == 12
    chosen = t.says("3", "out_of_scope")  # numbers map to choices in the engine; here: choose
    assert keys(chosen) == ["fallback.clarify"]


def test_choosing_a_plan_records_it_exact_to_the_cent() -> None:
    t = verified()
    t.says("plan please", "request_payment_plan")
    out = t.says("3", "choose", option="2")
    assert keys(out) == ["plan.recorded"]
    plan = out.effects[0]
    assert isinstance(plan, RecordPlan)
    assert sum(i.amount for i in plan.offer.schedule) == Decimal("1200.00")
    assert effects(out) == ["RecordPlan", "IssuePaymentLink"]


def test_counter_offer_inside_bounds_is_accepted() -> None:
    t = verified()
    out = t.says("can I do 6 monthly payments", "request_payment_plan", installments="6",
                 frequency="monthly")
    assert keys(out) == ["plan.confirm"]
    assert out.said[0].reply.slots["offer"].count == 6
    assert effects(t.says("yes", "affirm")) == ["RecordPlan", "IssuePaymentLink"]


def test_counter_offer_outside_bounds_gets_the_nearest_allowed() -> None:
    t = verified()
    out = t.says("I can only do $20 a month", "request_payment_plan", amount="20.00",
                 frequency="monthly")
    assert keys(out) == ["plan.counter"]
    offer = out.said[0].reply.slots["offer"]
    assert offer.count == 12 and offer.installment == Decimal("100.00")


def test_rounds_run_out_and_a_person_takes_over_with_the_history() -> None:
    t = verified()
    t.says("plan", "request_payment_plan", installments="6")
    seen = []
    for _ in range(4):
        seen.append(t.says("no", "deny"))
        seen.append(t.says("20 a month", "counter_offer", amount="20.00"))
    handoffs = [i for i, out in enumerate(seen) if keys(out) == ["negotiate.handoff"]]
    assert handoffs and handoffs[0] == 3  # max_rounds (3) spent, the 4th goes to a person
    assert effects(seen[3]) == ["Handoff"]
    assert "plan" in (seen[3].effects[0].note or "")  # type: ignore[union-attr]


def test_extension_is_bounded_by_the_policy() -> None:
    t = verified()
    out = t.says("I need more time", "request_extension")
    assert keys(out) == ["extension.counter"]
    assert out.said[0].reply.slots["offer"].first_due == T0.date() + timedelta(days=30)
    done = t.says("ok", "affirm")
    assert done.effects == [RecordPromise(Decimal("1200.00"), T0.date() + timedelta(days=30),
                                          "extension")]


def test_settlement_counter_never_goes_below_the_floor() -> None:
    t = verified()
    t.says("how much", "pay_in_full")
    t.says("can I pay less", "request_payment_plan", amount="1200.00")  # a plan of 1 → countered
    out = t.says("I can settle for 500", "counter_offer", amount="500.00")
    assert keys(out) == ["settlement.counter"]
    assert out.said[0].reply.slots["offer"].total == Decimal("1020.00")  # 15% at 95 dpd


def test_an_unprompted_settlement_offer_is_judged_as_a_settlement() -> None:
    t = verified()
    low = t.says("would you accept 500 to settle this", "counter_offer", amount="500.00")
    assert keys(low) == ["settlement.counter"]
    assert low.said[0].reply.slots["offer"].total == Decimal("1020.00")
    inside = t.says("ok what about 1050 to settle", "counter_offer", amount="1050.00")
    assert keys(inside) == ["settlement.confirm"]
    done = t.says("yes", "affirm")
    assert keys(done) == ["settlement.recorded"]
    [plan, link] = done.effects
    assert isinstance(plan, RecordPlan) and plan.offer.kind == "settlement"
    assert plan.offer.total == Decimal("1050.00") and link == IssuePaymentLink(
        Decimal("1050.00"), date(2026, 12, 9))


def test_asking_to_settle_without_an_amount_asks_for_one_in_spanish_too() -> None:
    t = verified()
    asked = t.says("me pueden hacer una quita?", "counter_offer")
    assert keys(asked) == ["negotiate.ask.settlement"]
    out = t.says("1100", "out_of_scope", amount="1100.00")
    assert keys(out) == ["settlement.confirm"]


def test_a_promise_answering_a_plan_question_is_a_promise() -> None:
    t = verified()
    t.says("plan please", "request_payment_plan")
    assert keys(t.says("no", "deny")) == ["negotiate.ask.plan"]
    out = t.says("te pago 100 el 15", "promise_to_pay", amount="100.00", date="2026-12-15")
    assert keys(out) == ["promise.confirm"]
    offer = out.said[0].reply.slots["offer"]
    assert (offer.kind, offer.total, offer.first_due) == ("promise", Decimal("100.00"),
                                                           date(2026, 12, 15))


def test_settlement_request_on_full_offer_is_countered_at_the_policy_floor() -> None:
    t = verified()
    t.state.table(make_facts().judge.proposals(make_facts().terms)[0])  # type: ignore[union-attr]
    out = t.says("I could pay 500 to close it", "counter_offer", amount="500.00")
    assert keys(out) == ["settlement.counter"]
    assert out.said[0].reply.slots["offer"].total == Decimal("1020.00")  # 15% at 95 dpd


def test_hardship_offers_care_and_the_policy_options() -> None:
    t = verified()
    out = t.says("I lost my job", "hardship")
    assert keys(out) == ["hardship.options"]
    assert effects(out) == ["SetHardship"]
    kinds = [o["offer"].kind for o in out.said[0].reply.slots["options"]]
    assert kinds == ["plan", "extension"]


def test_already_paid_records_the_claim_and_hands_off() -> None:
    t = verified()
    out = t.says("I already paid this last week", "already_paid", date="2026-11-18")
    assert keys(out) == ["already_paid.ask_reference"]  # the day is given: only the reference
    assert effects(out) == ["RecordPaymentClaim", "Handoff"]


def test_dispute_pauses_and_goes_to_the_disputes_queue() -> None:
    t = verified()
    out = t.says("this is not my debt", "dispute_debt")
    assert keys(out) == ["dispute.ack"]
    assert effects(out) == ["RecordDispute", "Handoff"]
    assert out.effects[0].reason == "this is not my debt"  # type: ignore[union-attr]


def test_no_promise_beside_an_active_plan_and_a_new_plan_says_it_replaces_it() -> None:
    t = Transcript(make_facts(active_plan=True))
    t.verify()
    out = t.says("I'll pay 300 on the 4th", "promise_to_pay", amount="300.00", date="2026-12-04")
    assert keys(out) == ["promise.beside_plan"] and out.effects == []
    t.says("plan please", "request_payment_plan")
    chosen = t.says("2", "choose", option="1")  # read back first: it replaces the plan
    assert keys(chosen) == ["plan.confirm"] and chosen.effects == []
    assert chosen.said[0].reply.lead == "plan.replaces_current"
    agreed = t.says("yes", "affirm")
    assert keys(agreed) == ["plan.recorded"] and agreed.said[0].reply.lead == "plan.replaces"


def test_yes_with_another_amount_is_a_counter_offer_not_a_yes() -> None:
    t = verified()
    t.says("te pago el viernes 500", "promise_to_pay", amount="500.00", date="2026-11-27")
    out = t.says("si pero 300", "affirm", amount="300.00")
    assert keys(out) == ["promise.confirm"] and out.effects == []
    assert out.said[0].reply.slots["offer"].total == Decimal("300.00")


def test_settling_for_less_is_a_settlement_whatever_payment_intent_was_read() -> None:
    for text, intent in (("puedo liquidar con 900?", "pay_partial"),
                         ("si pago 800 me perdonan lo demas?", "affirm"),
                         ("can you forgive the rest if I pay 700", "promise_to_pay")):
        t = verified()
        out = t.says(text, intent, amount="800.00")
        assert keys(out) == ["settlement.counter"], text
        assert out.said[0].reply.slots["offer"].total == Decimal("1020.00")


def test_paying_off_the_whole_debt_is_not_a_settlement() -> None:
    t = verified()
    out = t.says("quiero liquidar mi deuda", "pay_in_full")
    assert keys(out) == ["pay.link"]
    assert out.effects == [IssuePaymentLink(Decimal("1200.00"))]


def test_spanish_replies_write_other_currencies_with_their_code() -> None:
    for currency, written in (("MXN", "1,200.00 MXN"), ("EUR", "1.200,00 €"),
                              ("USD", "$1,200.00")):
        t = Transcript(make_facts(currency=currency))
        t.verify()
        out = t.says("quiero pagar todo", "pay_in_full")
        assert written in texts(out, t.facts, locale="es")[0]  # type: ignore[arg-type]


def test_an_earlier_day_answering_the_latest_allowed_one_is_taken() -> None:
    t = verified()
    t.says("necesito mas tiempo", "request_extension")  # countered with the latest day
    earlier = (T0 + timedelta(days=20)).date()
    out = t.says("el 20", "promise_to_pay", date=earlier.isoformat())
    assert keys(out) == ["extension.confirm"]
    done = t.says("si", "affirm")
    assert done.effects == [RecordPromise(Decimal("1200.00"), earlier, "extension")]


def test_a_day_without_an_amount_answering_a_plan_asks_for_the_amount() -> None:
    t = verified()
    t.says("can I do 6 monthly payments", "request_payment_plan", installments="6",
           frequency="monthly")
    day = (T0 + timedelta(days=10)).date()
    out = t.says("I'll pay on the 5th", "promise_to_pay", date=day.isoformat())
    assert keys(out) == ["promise.ask_amount"] and out.effects == []
    confirm = t.says("300", "out_of_scope", amount="300.00")
    assert keys(confirm) == ["promise.confirm"]
    assert confirm.said[0].reply.slots["offer"].first_due == day


def test_a_listed_plan_with_a_different_last_payment_says_so() -> None:
    t = Transcript(make_facts(balance=Decimal("1250.00")))
    t.verify()
    out = t.says("can I get a payment plan", "request_payment_plan")
    plan = out.said[0].reply.slots["options"][2]["offer"]
    last = plan.schedule[-1].amount
    assert plan.count == 12 and last != plan.installment  # 11 x 104.16 + 104.24
    english = texts(out, t.facts)[0]  # type: ignore[arg-type]
    assert f"12 monthly payments of ${plan.installment} starting" in english
    assert f"the last one ${last}" in english
    assert english.count("the last one") == 1  # 2 x 625.00 is even: nothing to add
    spanish = texts(out, t.facts, locale="es")[0]  # type: ignore[arg-type]
    assert f"el último de ${last}" in spanish, spanish
