"""More time "until today" is paying today, a past day is asked again, and a debtor's own plan
whose last payment is the remainder below the minimum installment is theirs, not countered."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from backend.services.policy import PolicyJudge, evaluate, schedule
from bot.effects import IssuePaymentLink, RecordPlan, RecordPromise
from bot.facts import Installment, Offer, Terms
from tests.bot.helpers import DEFAULT_POLICY, T0, Transcript, keys, make_facts, texts

PAYDAY = datetime(2026, 11, 30, 15, 0, tzinfo=T0.tzinfo)


def _verified(balance: str, currency: str = "USD", now: datetime = T0) -> Transcript:
    facts = make_facts(balance=Decimal(balance), currency=currency, today=now.date(),
                       judge=PolicyJudge(DEFAULT_POLICY, currency=currency))
    t = Transcript(facts, now=now)
    t.verify()
    return t


def test_more_time_until_today_reads_back_paying_today_and_links() -> None:
    t = _verified("5200.00", now=PAYDAY)
    out = t.says("le pago cuando me paguen la quincena", "request_extension", date="2026-11-30")
    assert keys(out) == ["promise.confirm"]
    assert t.facts is not None
    said = " ".join(texts(out, t.facts, locale="es"))
    assert "Lo más que puedo" not in said and "1 de diciembre" not in said
    assert "$5,200.00" in said
    done = t.says("sí", "affirm")
    assert keys(done) == ["promise.recorded_today"]
    recorded = [e for e in done.effects if isinstance(e, RecordPromise)]
    assert [(e.amount, e.due) for e in recorded] == [(Decimal("5200.00"), PAYDAY.date())]
    assert any(isinstance(e, IssuePaymentLink) for e in done.effects)


def test_a_day_within_the_policy_is_confirmed_and_one_beyond_is_countered() -> None:
    t = _verified("5200.00", now=PAYDAY)
    assert keys(t.says("hasta el 15", "request_extension", date="2026-12-15")) == [
        "extension.confirm"]
    t = _verified("5200.00", now=PAYDAY)
    far = (PAYDAY + timedelta(days=60)).date().isoformat()
    assert keys(t.says("hasta enero", "request_extension", date=far)) == ["extension.counter"]


def test_a_past_day_is_asked_again_not_countered_with_tomorrow() -> None:
    t = _verified("5200.00", now=PAYDAY)
    out = t.says("hasta el 28", "request_extension", date="2026-11-28")
    assert keys(out) == ["extension.ask_date"]
    assert t.state.tabled() is None
    again = t.says("el 15 de diciembre", "promise_to_pay", date="2026-12-15")
    assert keys(again) == ["extension.confirm"]


# --- the remainder below the minimum installment ----------------------------------------------


def test_a_last_remainder_below_the_minimum_installment_is_allowed() -> None:
    terms = Terms(Decimal("23000"), 95, T0.date())
    first = T0.date() + timedelta(days=7)
    plan = Offer("plan", Decimal("23000"), first,
                 _schedule([Decimal(2000)] * 11 + [Decimal(1000)], first), "monthly")
    assert evaluate(DEFAULT_POLICY, plan, terms, currency="MXN").allowed
    early = Offer("plan", Decimal("23000"), first,
                  _schedule([Decimal(1000)] + [Decimal(2000)] * 11, first), "monthly")
    assert evaluate(DEFAULT_POLICY, early, terms, currency="MXN").reason == (
        "installment below the minimum")


def _schedule(values: list[Decimal], first: date) -> tuple[Installment, ...]:
    return schedule.dated(values, "monthly", first)


def test_two_thousand_a_month_is_the_debtors_plan_not_a_smaller_counter() -> None:
    t = _verified("23000", currency="MXN")
    out = t.says("y si le doy 2 mil al mes?", "request_payment_plan", amount="2000",
                 frequency="monthly")
    assert keys(out) == ["plan.confirm"]
    tabled = t.state.tabled()
    assert tabled is not None
    assert [i.amount for i in tabled.schedule] == [Decimal(2000)] * 11 + [Decimal(1000)]
    done = t.says("sí", "affirm")
    plans = [e for e in done.effects if isinstance(e, RecordPlan)]
    assert len(plans) == 1 and plans[0].offer.installment == Decimal(2000)


def test_two_thousand_a_month_answering_a_smaller_counter_is_taken() -> None:
    t = _verified("23000", currency="MXN")
    assert keys(t.says("quiero un plan de pagos", "request_payment_plan"))
    out = t.says("no, 2000 al mes mejor pa terminar antes", "counter_offer", amount="2000",
                 frequency="monthly")
    assert keys(out) == ["plan.confirm"]
    tabled = t.state.tabled()
    assert tabled is not None and tabled.installment == Decimal(2000)
