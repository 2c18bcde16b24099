"""Refund rules: overpaid excess first, failed refunds applied again, settlements' write-offs,
and one payment whether the billing system or Stripe reports it first."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, Installment, Payment, PaymentPlan
from backend.services import ledger
from backend.workflow.lifecycle import run_lifecycles
from backend.workflow.strategy import Lifecycle
from bot.clock import SettableClock
from bot.facts import Installment as Due
from bot.facts import Offer
from tests.backend.test_payment_fixes_refunds import _account, _pay, _refund, _standing
from tests.backend.test_payment_fixes_stripe_dupes import _deliver
from tests.backend.test_payment_fixes_stripe_dupes import served as served  # noqa: F401

D = Decimal
Served = tuple[Container, httpx.AsyncClient, str]


def _paid(account_id: int, cents: int, reference: str | None = None) -> tuple[str, dict]:
    metadata = {"account_id": str(account_id)}
    if reference is not None:
        metadata["reference"] = reference
    return "checkout.session.completed", {
        "id": "cs_test_a1", "object": "checkout.session", "amount_total": cents,
        "currency": "usd", "payment_intent": "pi_3Abc", "payment_status": "paid",
        "metadata": metadata}


def _refunded(cents: int, paid: int = 30000) -> tuple[str, dict]:
    return "charge.refunded", {
        "id": "ch_3Abc", "object": "charge", "amount": paid, "amount_refunded": cents,
        "currency": "usd", "payment_intent": "pi_3Abc", "metadata": {}}


def _refund_failed(cents: int, refund_id: str = "re_1") -> tuple[str, dict]:
    """Stripe's Refund object: this refund's own amount, the charge and intent it was of."""
    return "refund.failed", {
        "id": refund_id, "object": "refund", "amount": cents, "currency": "usd",
        "charge": "ch_3Abc", "payment_intent": "pi_3Abc", "status": "failed",
        "failure_reason": "expired_or_canceled_card", "metadata": {}}


async def _events(container: Container, action: str) -> list[dict]:
    async with container.sessions() as session:
        rows = await session.scalars(select(AuditEvent).where(
            AuditEvent.action == action).order_by(AuditEvent.id))
        return [row.data for row in rows]


# 1. An overpayment's refund gives the excess back first.

async def test_refunding_the_overpaid_excess_owes_nothing_again(
    container: Container, clock: SettableClock,
) -> None:
    now = clock.now()
    account_id = await _account(container, now, "300.00")
    assert (await _pay(container, account_id, "500.00", now)).overpaid == D("200.00")
    assert await _refund(container, account_id, "200.00", now) == D("200.00")
    assert await _standing(container, account_id) == ("paid", D("0.00"), D("200.00"))
    await _refund(container, account_id, "350.00", now)  # 150 of the money that counted
    assert await _standing(container, account_id) == ("active", D("150.00"), D("350.00"))
    assert [(e["overpaid_returned"], e["reversed"]) for e in
            await _events(container, "payment.refunded")] == [
        ("200.00", "0.00"), ("0.00", "150.00")]


async def test_an_overpayment_refunded_through_stripe_leaves_the_account_paid(
    served: Served,
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    await _deliver(client, *_paid(account_id, 50000))
    await _deliver(client, *_refunded(20000, paid=50000))
    assert await _standing(container, account_id) == ("paid", D("0.00"), D("200.00"))


# 2. refund.failed: the money came back, so what the refund reversed is applied again.

async def test_a_failed_refund_is_applied_again_once(served: Served) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    await _deliver(client, *_paid(account_id, 30000))
    await _deliver(client, *_refunded(10000))
    assert await _standing(container, account_id) == ("active", D("100.00"), D("100.00"))
    answers = []
    for _ in range(2):  # the second: a repeated delivery
        answers.append(await _deliver(client, *_refund_failed(10000)))
        assert await _standing(container, account_id) == ("paid", D("0.00"), D("0.00"))
    assert [a.get("refunds_failed") for a in answers] == [1, None]
    [event] = await _events(container, "payment.refund_failed")
    assert (event["refund_id"], event["restored"], event["reapplied"]) == (
        "re_1", "100.00", "100.00")


async def test_a_later_refund_after_a_failed_one_is_reversed(served: Served) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    await _deliver(client, *_paid(account_id, 30000))
    await _deliver(client, *_refunded(10000))
    await _deliver(client, *_refund_failed(10000))
    await _deliver(client, *_refunded(5000))  # a new refund: Stripe's total without the failed
    assert await _standing(container, account_id) == ("active", D("50.00"), D("50.00"))


async def test_a_failed_refund_of_an_unknown_payment_is_ignored(served: Served) -> None:
    container, client, url = served
    answer = await _deliver(client, *_refund_failed(10000))
    assert answer == {"received": 1, "posted": 0, "refused": 0}
    assert await _events(container, "payment.refund_failed") == []


async def test_a_failed_refund_pays_the_plan_again(
    container: Container, clock: SettableClock,
) -> None:
    now = clock.now()
    account_id = await _account(container, now, "200.00")
    first = now.date() + timedelta(days=7)
    offer = Offer("plan", D("200.00"), first, frequency="weekly", schedule=(
        Due(first, D("100.00")), Due(first + timedelta(weeks=1), D("100.00"))))
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        plan = await ledger.record_plan(session, account, offer, ledger.Origin(now))
    await _pay(container, account_id, "200.00", now)
    await _refund(container, account_id, "50.00", now)
    assert await _plan(container, plan.id) == ("active", [D("100.00"), D("50.00")])
    assert await _fail(container, account_id, "50.00", now) == D("50.00")
    assert await _plan(container, plan.id) == ("completed", [D("100.00"), D("100.00")])
    assert await _standing(container, account_id) == ("paid", D("0.00"), D("0.00"))


async def _fail(container: Container, account_id: int, amount: str, now: datetime) -> Decimal:
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        payment = await session.scalar(select(Payment).where(Payment.reference == "REF-1"))
        assert account is not None and payment is not None
        return await ledger.refund_failed(session, account, payment, D(amount), "re_9",
                                          ledger.Origin(now, "stripe"))


async def _plan(container: Container, plan_id: int) -> tuple[str, list[Decimal]]:
    async with container.sessions() as session:
        plan = await session.get(PaymentPlan, plan_id)
        paid = list(await session.scalars(select(Installment.paid_amount).where(
            Installment.plan_id == plan_id).order_by(Installment.seq)))
    assert plan is not None
    return plan.status, paid


# 3. A refunded settlement owes the full pre-settlement balance less what was kept.

async def _settled(container: Container, now: datetime) -> tuple[int, int]:
    account_id = await _account(container, now, "1000.00")
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        plan = await ledger.record_plan(session, account, Offer(
            "settlement", D("850.00"), date(2026, 12, 15)), ledger.Origin(now))
    await _pay(container, account_id, "850.00", now)
    assert (await _standing(container, account_id))[:2] == ("settled", D("0.00"))
    return account_id, plan.id


async def test_a_refunded_settlement_lapses_to_the_whole_balance(
    container: Container, clock: SettableClock,
) -> None:
    now = clock.now()
    account_id, plan_id = await _settled(container, now)
    [posted] = await _events(container, "payment.posted")
    assert posted["written_off"] == "150.00"
    await _refund(container, account_id, "850.00", now)
    assert await _standing(container, account_id) == ("active", D("1000.00"), D("850.00"))
    [refunded] = await _events(container, "payment.refunded")
    assert (refunded["reversed"], refunded["write_off_reversed"]) == ("1000.00", "150.00")
    after_grace = datetime.combine(date(2026, 12, 25), now.timetz())
    async with container.sessions.begin() as session:
        await run_lifecycles(session, after_grace, Lifecycle())
    assert (await _plan(container, plan_id))[0] == "broken"
    assert (await _standing(container, account_id))[:2] == ("active", D("1000.00"))


async def test_a_part_refunded_settlement_owes_the_balance_less_what_was_kept(
    container: Container, clock: SettableClock,
) -> None:
    now = clock.now()
    account_id, plan_id = await _settled(container, now)
    await _refund(container, account_id, "100.00", now)
    assert (await _standing(container, account_id))[:2] == ("active", D("250.00"))
    # Still open, the settlement is settled again by paying what was given back.
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        again = await ledger.post_payment(session, account, D("100.00"), "REF-2",
                                          ledger.Origin(now, "test"))
    assert again.overpaid == D("0.00")
    assert (await _standing(container, account_id))[:2] == ("settled", D("0.00"))


async def test_refunding_a_settlements_overpaid_excess_leaves_it_settled(
    container: Container, clock: SettableClock,
) -> None:
    now = clock.now()
    account_id = await _account(container, now, "1000.00")
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        plan = await ledger.record_plan(session, account, Offer(
            "settlement", D("850.00"), date(2026, 12, 15)), ledger.Origin(now))
    assert (await _pay(container, account_id, "900.00", now)).overpaid == D("50.00")
    await _refund(container, account_id, "50.00", now)
    assert await _standing(container, account_id) == ("settled", D("0.00"), D("50.00"))
    assert (await _plan(container, plan.id))[0] == "completed"
    await _refund(container, account_id, "900.00", now)
    assert await _standing(container, account_id) == ("active", D("1000.00"), D("900.00"))


async def test_a_failed_refund_settles_the_settlement_again(
    container: Container, clock: SettableClock,
) -> None:
    now = clock.now()
    account_id, plan_id = await _settled(container, now)
    await _refund(container, account_id, "850.00", now)
    await _fail(container, account_id, "850.00", now)
    assert await _standing(container, account_id) == ("settled", D("0.00"), D("0.00"))
    assert (await _plan(container, plan_id))[0] == "completed"
    [failed] = await _events(container, "payment.refund_failed")
    assert failed["written_off"] == "150.00"


# 4. One payment, whether the billing system or Stripe reports it first.

async def test_the_billing_systems_post_after_stripes_is_the_same_payment(
    served: Served,
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    assert (await _deliver(client, *_paid(account_id, 5000, reference="INV-9")))["posted"] == 1
    again = await client.post(url, json={"amount": "50.00", "reference": "INV-9"})
    assert (again.status_code, again.json()["created"]) == (200, False)
    conflict = await client.post(url, json={"amount": "60.00", "reference": "INV-9"})
    assert conflict.status_code == 409
    assert await _references(container, account_id) == (D("250.00"), [("pi_3Abc", "INV-9")])


async def test_stripes_post_after_the_billing_systems_is_the_same_payment(
    served: Served,
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    first = await client.post(url, json={"amount": "50.00", "reference": "INV-9"})
    assert first.status_code == 201
    assert (await _deliver(client, *_paid(account_id, 5000, reference="INV-9")))["posted"] == 0
    assert await _references(container, account_id) == (D("250.00"), [("INV-9", "pi_3Abc")])
    # Stripe's refund, keyed on its PaymentIntent, finds the payment the API posted.
    assert (await _deliver(client, *_refunded(5000, paid=5000))).get("refunded") == 1
    assert (await _references(container, account_id))[0] == D("300.00")


async def _references(container: Container, account_id: int
                      ) -> tuple[Decimal, list[tuple[str, str | None]]]:
    async with container.sessions() as session:
        account = await session.get(Account, account_id)
        rows = (await session.execute(select(Payment.reference, Payment.alias).where(
            Payment.account_id == account_id))).all()
    assert account is not None
    return account.current_balance, [tuple(row) for row in rows]
