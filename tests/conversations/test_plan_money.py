"""Plan money: installments in the currency's minor units, and plans that never cost the debtor
more per installment than they offered (nor pass off a different plan as their own)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.services.policy import Policy, PolicyJudge, evaluate
from backend.services.policy.model import PlanPolicy
from backend.services.policy.money import minor_unit
from bot.effects import IssuePaymentLink, RecordPlan
from bot.facts import Installment, Offer, Request, Terms
from tests.bot.helpers import DEFAULT_POLICY, T0, Transcript, keys, make_facts, texts

TODAY = T0.date()


def verified(balance: str, currency: str = "USD", policy: Policy = DEFAULT_POLICY) -> Transcript:
    facts = make_facts(policy, balance=Decimal(balance), currency=currency,
                       judge=PolicyJudge(policy, currency=currency))
    t = Transcript(facts)
    t.verify()
    return t


def amounts(offer: Offer) -> list[Decimal]:
    return [i.amount for i in offer.schedule]


# --- minor units -------------------------------------------------------------------------------


def test_minor_units_come_from_babel() -> None:
    assert minor_unit("JPY") == Decimal("1")
    assert minor_unit("jpy") == Decimal("1")
    assert minor_unit("USD") == minor_unit("EUR") == Decimal("0.01")
    assert minor_unit("BHD") == minor_unit("KWD") == Decimal("0.001")
    assert minor_unit(None) == Decimal("0.01")  # no currency known: cents, as before


def test_jpy_plan_installments_are_whole_yen_and_add_up_to_the_balance() -> None:
    t = verified("20000", "JPY")
    out = t.says("12 monthly payments", "request_payment_plan", installments="12",
                 frequency="monthly")
    assert keys(out) == ["plan.confirm"]
    offer = out.said[0].reply.slots["offer"]
    assert amounts(offer) == [Decimal(1666)] * 11 + [Decimal(1674)]  # the last takes the rest
    assert sum(amounts(offer)) == Decimal("20000")
    text = texts(out, t.facts)[0]  # type: ignore[arg-type]
    assert "¥1,666" in text and "¥1,674" in text and "¥1,667" not in text
    done = t.says("yes", "affirm")
    plan = next(e for e in done.effects if isinstance(e, RecordPlan))
    link = next(e for e in done.effects if isinstance(e, IssuePaymentLink))
    assert all(a == a.to_integral_value() for a in amounts(plan.offer))
    assert link.amount == Decimal(1666)  # the link carries what the schedule asks, in whole yen


def test_jpy_proposals_are_whole_yen() -> None:
    terms = Terms(Decimal("20000"), 95, TODAY)
    judge = PolicyJudge(DEFAULT_POLICY, currency="JPY")
    plans = [o for o in judge.proposals(terms) if o.kind == "plan"]
    assert plans
    for offer in plans:
        assert sum(amounts(offer)) == terms.balance
        assert all(a == a.to_integral_value() for a in amounts(offer)), offer


def test_jpy_policy_refuses_sen() -> None:
    terms = Terms(Decimal("20000"), 95, TODAY)
    first = TODAY + timedelta(days=7)
    cents = tuple(Installment(first + timedelta(days=14 * n), Decimal("6666.66"))
                  for n in range(2)) + (Installment(first + timedelta(days=28),
                                                     Decimal("6666.68")),)
    offer = Offer("plan", terms.balance, first, cents, "biweekly")
    assert evaluate(DEFAULT_POLICY, offer, terms).allowed  # cents are fine in dollars
    verdict = evaluate(DEFAULT_POLICY, offer, terms, currency="JPY")
    assert not verdict.allowed
    assert verdict.reason == "amounts are whole minor units of the currency"


def test_jpy_settlement_and_promise_counters_are_whole_yen() -> None:
    judge = PolicyJudge(DEFAULT_POLICY, currency="JPY")
    terms = Terms(Decimal("20001"), 95, TODAY)  # 15% off at most: the floor is 17000.85
    settlement = judge.answer("settlement", Request(amount=Decimal("100")), terms)
    assert settlement.offer is not None and not settlement.exact
    assert settlement.offer.total == Decimal("17001")  # rounded up, never below the floor
    promise = judge.answer("promise", Request(amount=Decimal("1500.5"),
                                              due=TODAY + timedelta(days=3)), terms)
    assert promise.offer is not None and not promise.exact
    assert promise.offer.total == promise.offer.total.to_integral_value()


def test_three_decimal_currency_plans_are_exact_to_the_fils() -> None:
    policy = Policy(plan=PlanPolicy(min_installment=Decimal("10"), frequencies=["monthly"]))
    terms = Terms(Decimal("100.001"), 30, TODAY)
    answer = PolicyJudge(policy, currency="BHD").answer(
        "plan", Request(installments=3, frequency="monthly"), terms)
    assert answer.exact and answer.offer is not None
    assert amounts(answer.offer) == [Decimal("33.333"), Decimal("33.333"), Decimal("33.335")]
    assert evaluate(policy, answer.offer, terms, currency="KWD").allowed
    assert not evaluate(policy, answer.offer, terms, currency="USD").allowed


# --- what the debtor offered -------------------------------------------------------------------


def test_100_every_two_weeks_never_asks_more_than_100_and_the_count_rounds_up() -> None:
    t = verified("428.21")
    out = t.says("I can pay 100 every two weeks", "request_payment_plan", amount="100",
                 frequency="biweekly")
    assert keys(out) == ["plan.confirm"]
    offer = out.said[0].reply.slots["offer"]
    assert offer.count == 5 and offer.frequency == "biweekly"
    assert amounts(offer) == [Decimal("100")] * 4 + [Decimal("28.21")]  # what they offered
    assert sum(amounts(offer)) == Decimal("428.21")


def test_200_every_two_weeks_is_three_payments_not_two_of_214() -> None:
    answer = PolicyJudge(DEFAULT_POLICY).answer(
        "plan", Request(amount=Decimal("200"), frequency="biweekly"),
        Terms(Decimal("428.21"), 95, TODAY))
    assert answer.offer is not None
    assert answer.offer.count == 3
    assert max(amounts(answer.offer)) <= Decimal("200")
    assert sum(amounts(answer.offer)) == Decimal("428.21")


def test_75_a_month_for_6_months_on_747_is_a_counter_not_a_confirmation() -> None:
    t = verified("747.06")
    out = t.says("I can do 75 a month for 6 months", "request_payment_plan", amount="75",
                 installments="6", frequency="monthly")
    assert keys(out) == ["plan.counter"]  # "I can offer …", never "To confirm …"
    offer = out.said[0].reply.slots["offer"]
    assert offer.count == 10  # 75 a month needs 10 months, inside the 12 the policy allows
    assert max(amounts(offer)) <= Decimal("75")
    assert sum(amounts(offer)) == Decimal("747.06")


def test_75_a_month_beyond_max_months_counters_with_the_longest_plan() -> None:
    policy = DEFAULT_POLICY.model_copy(update={
        "plan": DEFAULT_POLICY.plan.model_copy(update={"max_months": 8})})
    answer = PolicyJudge(policy).answer(
        "plan", Request(amount=Decimal("75"), installments=6, frequency="monthly"),
        Terms(Decimal("747.06"), 95, TODAY))
    assert not answer.exact and answer.offer is not None
    assert answer.offer.count == 8


def test_a_count_and_amount_that_cover_the_balance_exactly_are_confirmed() -> None:
    answer = PolicyJudge(DEFAULT_POLICY).answer(
        "plan", Request(amount=Decimal("200"), installments=4, frequency="monthly"),
        Terms(Decimal("747.06"), 95, TODAY))
    assert answer.exact and answer.offer is not None
    assert amounts(answer.offer) == [Decimal("200")] * 3 + [Decimal("147.06")]


def test_a_count_alone_still_splits_the_balance_evenly() -> None:
    answer = PolicyJudge(DEFAULT_POLICY).answer(
        "plan", Request(installments=6, frequency="monthly"),
        Terms(Decimal("747.06"), 95, TODAY))
    assert answer.exact and answer.offer is not None
    assert amounts(answer.offer) == [Decimal("124.51")] * 6


CURRENCIES = {"JPY": 0, "USD": 2, "BHD": 3}


@st.composite
def plan_requests(draw: st.DrawFn) -> tuple[str, Terms, Request]:
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    unit = Decimal(1).scaleb(-CURRENCIES[currency])
    balance = draw(st.integers(1, 10**8)) * unit
    amount = draw(st.none() | st.integers(1, 10**7).map(lambda n: n * unit))
    count = draw(st.none() | st.integers(1, 60))
    frequency = draw(st.none() | st.sampled_from(["weekly", "biweekly", "monthly"]))
    hardship = draw(st.booleans())
    return currency, Terms(balance, 200, TODAY, hardship), Request(amount, None, count, frequency)


@settings(max_examples=400, deadline=None)
@given(plan_requests())
def test_plan_answers_are_in_minor_units_and_never_exceed_the_offered_amount(
    case: tuple[str, Terms, Request],
) -> None:
    currency, terms, request = case
    answer = PolicyJudge(DEFAULT_POLICY, currency=currency).answer("plan", request, terms)
    if answer.offer is None:
        return
    unit = minor_unit(currency)
    offer = answer.offer
    assert evaluate(DEFAULT_POLICY, offer, replace(terms, hardship=offer.hardship),
                    currency=currency).allowed
    assert sum(amounts(offer)) == terms.balance
    assert all(a % unit == 0 for a in amounts(offer))
    if answer.exact and request.amount is not None:
        assert max(amounts(offer)) <= request.amount
        assert amounts(offer)[:-1] == [request.amount] * (offer.count - 1)
    if answer.exact and request.installments is not None:
        assert offer.count == request.installments
