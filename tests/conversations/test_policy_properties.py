"""Property tests: no path offers, confirms or records anything outside the policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.services.policy import Policy, PolicyJudge, dialog_policy, evaluate
from backend.services.policy.model import (
    ApprovalPolicy,
    DiscountBand,
    ExtensionPolicy,
    NegotiationPolicy,
    PlanPolicy,
    PromisePolicy,
    SettlementPolicy,
)
from bot.effects import IssuePaymentLink, RecordPlan, RecordPromise
from bot.facts import Offer, Request, Terms
from tests.bot.helpers import T0, Transcript, make_facts

TODAY = date(2026, 11, 25)
money = st.integers(min_value=1, max_value=5_000_000).map(lambda c: Decimal(c) / 100)
small_money = st.integers(min_value=0, max_value=20_000).map(lambda c: Decimal(c) / 100)
frequencies = st.lists(st.sampled_from(["weekly", "biweekly", "monthly"]), min_size=1,
                       max_size=3, unique=True)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    bands = sorted(draw(st.lists(st.integers(0, 400), max_size=3, unique=True)))
    return Policy(
        settlement=SettlementPolicy(
            allowed=draw(st.booleans()), pay_within_days=draw(st.integers(0, 30)),
            bands=[DiscountBand(min_days_past_due=d, max_discount_pct=draw(st.integers(0, 60)))
                   for d in bands]),
        plan=PlanPolicy(
            min_installment=draw(small_money), min_installment_pct=draw(st.integers(0, 50)),
            max_months=draw(st.integers(1, 36)), frequencies=draw(frequencies),
            min_down_payment=draw(small_money), first_payment_within_days=draw(st.integers(0, 30))),
        promise=PromisePolicy(max_days_out=draw(st.integers(0, 60)), min_amount=draw(small_money)),
        extension=ExtensionPolicy(max_days=draw(st.integers(1, 60))),
        negotiation=NegotiationPolicy(max_rounds=draw(st.integers(1, 5))),
        approval=ApprovalPolicy(
            max_balance=draw(st.none() | money), max_months=draw(st.none() | st.integers(1, 36)),
            max_discount_pct=draw(st.none() | st.integers(0, 60))),
    )


terms_st = st.builds(Terms, balance=money, days_past_due=st.integers(0, 720),
                     today=st.just(TODAY), hardship=st.booleans())
requests = st.builds(
    Request, amount=st.none() | money,
    due=st.none() | st.integers(-10, 120).map(lambda d: TODAY + timedelta(days=d)),
    installments=st.none() | st.integers(0, 100),
    frequency=st.none() | st.sampled_from(["weekly", "biweekly", "monthly"]),
)


@settings(max_examples=300, deadline=None)
@given(policies(), terms_st)
def test_every_proposal_is_inside_the_policy_and_exact_to_the_cent(
    policy: Policy, terms: Terms
) -> None:
    for offer in PolicyJudge(policy).proposals(terms):
        assert evaluate(policy, offer, terms).allowed
        if offer.kind == "plan":
            amounts = [i.amount for i in offer.schedule]
            assert sum(amounts) == terms.balance
            assert all(a == a.quantize(Decimal("0.01")) for a in amounts)


@settings(max_examples=500, deadline=None)
@given(policies(), terms_st, st.sampled_from(["promise", "plan", "extension", "settlement",
                                              "full"]), requests)
def test_every_answer_to_a_counter_offer_is_inside_the_policy(
    policy: Policy, terms: Terms, kind: str, request: Request
) -> None:
    answer = PolicyJudge(policy).answer(kind, request, terms)
    if answer.offer is not None:
        assert evaluate(policy, answer.offer, terms).allowed
        assert not answer.needs_human


INTENTS = ["request_payment_plan", "counter_offer", "promise_to_pay", "request_extension",
           "affirm", "deny", "pay_partial", "pay_in_full", "hardship", "choose", "ask_balance"]


@st.composite
def turns(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    intent = draw(st.sampled_from(INTENTS))
    entities: dict[str, str] = {}
    if draw(st.booleans()):
        entities["amount"] = str(draw(money))
    if draw(st.booleans()):
        entities["date"] = (TODAY + timedelta(days=draw(st.integers(-5, 90)))).isoformat()
    if draw(st.booleans()):
        entities["installments"] = str(draw(st.integers(1, 60)))
    if draw(st.booleans()):
        entities["frequency"] = draw(st.sampled_from(["weekly", "biweekly", "monthly"]))
    if intent == "choose":
        entities["option"] = str(draw(st.integers(0, 3)))
    return intent, entities


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), money, st.integers(0, 720), st.lists(turns(), min_size=1, max_size=12))
def test_no_dialog_path_offers_or_records_outside_the_policy(
    policy: Policy, balance: Decimal, dpd: int, script: list[tuple[str, dict[str, str]]]
) -> None:
    facts = make_facts(policy, balance=balance, days_past_due=dpd)
    facts = replace(facts, policy=dialog_policy(policy), judge=PolicyJudge(policy))
    t = Transcript(facts)
    t.verify()
    for intent, entities in script:
        out = t.says("...", intent, **entities)
        if any(type(e).__name__ == "SetHardship" for e in out.effects):
            facts = replace(facts, hardship=True)
            t.facts = facts
        terms = facts.terms
        for said in out.said:
            offers = [said.reply.slots.get("offer")]
            offers += [o["offer"] for o in said.reply.slots.get("options", [])]
            for offer in filter(None, offers):
                judged = replace(terms, hardship=terms.hardship or offer.hardship)
                assert evaluate(policy, offer, judged).allowed, offer
        for effect in out.effects:
            _assert_recorded_inside(policy, effect, terms)


def _assert_recorded_inside(policy: Policy, effect: object, terms: Terms) -> None:
    if isinstance(effect, RecordPlan):
        judged = replace(terms, hardship=terms.hardship or effect.offer.hardship)
        assert evaluate(policy, effect.offer, judged).allowed
    if isinstance(effect, RecordPromise):
        offer = Offer(effect.kind, effect.amount, effect.due)
        hardship_terms = replace(terms, hardship=True)
        assert (evaluate(policy, offer, terms).allowed
                or evaluate(policy, offer, hardship_terms).allowed)
    if isinstance(effect, IssuePaymentLink):
        assert Decimal("0") < effect.amount <= terms.balance


def test_evaluate_refuses_the_obvious() -> None:
    policy = make_facts().judge.policy  # type: ignore[union-attr]
    terms = Terms(Decimal("1000.00"), 30, TODAY)
    far = Offer("promise", Decimal("100.00"), TODAY + timedelta(days=31))
    assert evaluate(policy, far, terms).reason == "promise too far out"
    tiny = Offer("promise", Decimal("5.00"), TODAY)
    assert not evaluate(policy, tiny, terms).allowed
    assert not evaluate(policy, Offer("settlement", Decimal("900.00"), TODAY), terms).allowed
    assert T0.date() == TODAY
