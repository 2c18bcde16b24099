"""Refunds: what Stripe gives back of a posted payment is owed again, once, and audited."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, Payment, PaymentPlan, Promise
from backend.services import ledger
from backend.workflow.lifecycle import run_lifecycles
from backend.workflow.strategy import Lifecycle
from bot.clock import SettableClock
from bot.facts import Installment, Offer
from tests.backend.test_payment_fixes_stripe_dupes import _deliver
from tests.backend.test_payment_fixes_stripe_dupes import served as served  # noqa: F401
from tests.workflow import seed

D = Decimal
Served = tuple[Container, httpx.AsyncClient, str]


def _paid(account_id: int, cents: int) -> tuple[str, dict]:
    return "payment_intent.succeeded", {
        "id": "pi_3Abc", "object": "payment_intent", "amount_received": cents,
        "currency": "usd", "metadata": {"account_id": str(account_id)}}


def _refunded(cents: int, intent: str = "pi_3Abc") -> tuple[str, dict]:
    """A charge.refunded event: `amount_refunded` is the total so far; no metadata of ours."""
    return "charge.refunded", {
        "id": "ch_3Abc", "object": "charge", "amount": 30000, "amount_refunded": cents,
        "refunded": cents == 30000, "currency": "usd", "payment_intent": intent,
        "metadata": {}}


async def _standing(container: Container, account_id: int) -> tuple[str, Decimal, Decimal]:
    async with container.sessions() as session:
        account = await session.get(Account, account_id)
        refunded = await session.scalar(select(Payment.refunded_amount).where(
            Payment.account_id == account_id))
    assert account is not None
    return account.status, account.current_balance, refunded or D("0.00")


async def _refund_events(container: Container) -> list[dict]:
    async with container.sessions() as session:
        rows = await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "payment.refunded").order_by(AuditEvent.id))
        return [row.data for row in rows]


async def test_a_refund_is_owed_again_once_however_often_it_arrives(served: Served) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    assert (await _deliver(client, *_paid(account_id, 30000)))["posted"] == 1
    assert await _standing(container, account_id) == ("paid", D("0.00"), D("0.00"))
    for cents, expected in [(10000, D("100.00")), (10000, D("100.00")), (30000, D("300.00")),
                            (10000, D("300.00"))]:  # the last: an old delivery, late
        await _deliver(client, *_refunded(cents))
        assert (await _standing(container, account_id))[1:] == (expected, expected)
    assert await _standing(container, account_id) == ("active", D("300.00"), D("300.00"))
    assert [(e["reversed"], e["refunded"]) for e in await _refund_events(container)] == [
        ("100.00", "100.00"), ("200.00", "300.00")]


async def test_a_refund_of_an_unknown_payment_is_ignored_with_a_warning(
    served: Served, caplog: pytest.LogCaptureFixture,
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    with caplog.at_level(logging.WARNING, logger="backend.services.payments.service"):
        answer = await _deliver(client, *_refunded(12345, intent="pi_unknown"))
    assert (answer["received"], answer["posted"], answer.get("refunded")) == (1, 0, None)
    assert await _standing(container, account_id) == ("active", D("300.00"), D("0.00"))
    [warning] = [r for r in caplog.records if r.name == "backend.services.payments.service"]
    assert warning.levelno == logging.WARNING and "pi_unknown" in warning.getMessage()
    assert "123.45" not in warning.getMessage() and "12345" not in warning.getMessage()
    assert await _refund_events(container) == []


async def _account(container: Container, now: datetime, balance: str) -> int:
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        account = await seed.account(session, folio, now, now.date() - timedelta(days=91),
                                     balance=balance)
    return account.id


async def _pay(container: Container, account_id: int, amount: str, now: datetime
               ) -> ledger.Posted:
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        return await ledger.post_payment(session, account, D(amount), "REF-1",
                                         ledger.Origin(now, "test"))


async def _refund(container: Container, account_id: int, amount: str, now: datetime
                  ) -> Decimal:
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        payment = await session.scalar(select(Payment).where(Payment.reference == "REF-1"))
        assert account is not None and payment is not None
        return await ledger.refund_payment(session, account, payment, D(amount),
                                           ledger.Origin(now, "stripe"))


async def test_a_refunded_plan_payment_reopens_the_plan(
    container: Container, clock: SettableClock,
) -> None:
    now = clock.now()
    account_id = await _account(container, now, "200.00")
    first = now.date() + timedelta(days=7)
    offer = Offer("plan", D("200.00"), first, frequency="weekly", schedule=(
        Installment(first, D("100.00")), Installment(first + timedelta(weeks=1), D("100.00"))))
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        plan = await ledger.record_plan(session, account, offer, ledger.Origin(now))
    assert (await _pay(container, account_id, "200.00", now)).applied_to == "plan"
    assert await _refund(container, account_id, "50.00", now) == D("50.00")
    async with container.sessions() as session:
        stored = await session.get(PaymentPlan, plan.id)
        assert stored is not None
        installments = [(i.status, i.paid_amount) for i in await session.run_sync(
            lambda _: stored.installments)]
    assert stored.status == "active"
    assert installments == [("paid", D("100.00")), ("partial", D("50.00"))]
    assert (await _standing(container, account_id))[:2] == ("active", D("50.00"))


async def test_a_refunded_promise_payment_is_judged_again(
    container: Container, clock: SettableClock,
) -> None:
    now = clock.now()
    account_id = await _account(container, now, "500.00")
    due = now.date() + timedelta(days=3)
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        promise = await ledger.record_promise(session, account, D("100.00"), due,
                                              ledger.Origin(now))
    assert (await _pay(container, account_id, "100.00", now + timedelta(hours=1))
            ).applied_to == "promise"
    await _refund(container, account_id, "100.00", now + timedelta(hours=2))
    assert await _promise(container, promise.id) == ("pending", D("0.00"))
    after_grace = datetime.combine(due + timedelta(days=10), now.timetz())
    async with container.sessions.begin() as session:
        await run_lifecycles(session, after_grace, Lifecycle())
    # The refunded payment no longer counts as received: the promise was not kept.
    assert await _promise(container, promise.id) == ("broken", D("0.00"))


async def _promise(container: Container, promise_id: int) -> tuple[str, Decimal]:
    async with container.sessions() as session:
        promise = await session.get(Promise, promise_id)
    assert promise is not None
    return promise.status, promise.paid_amount


async def test_a_refunded_settlement_is_owed_again(
    container: Container, clock: SettableClock,
) -> None:
    now = clock.now()
    account_id = await _account(container, now, "1000.00")
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        await ledger.record_plan(session, account, Offer(
            "settlement", D("850.00"), date(2026, 12, 15)), ledger.Origin(now))
    await _pay(container, account_id, "850.00", now)
    assert (await _standing(container, account_id))[:2] == ("settled", D("0.00"))
    await _refund(container, account_id, "850.00", now)
    # The settlement stands again, still needing what was given back; the discount is owed
    # again until it is paid.
    assert await _standing(container, account_id) == ("active", D("1000.00"), D("850.00"))
