"""A plan replaced by a later one leaves its own audit event (who replaced it, with what), and
plan and settlement audits carry money as stored, in cents."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, PaymentPlan
from backend.db.models.enums import PlanStatus
from backend.services import ledger
from bot.facts import Installment, Offer

FIRST = date(2026, 12, 1)


def _monthly(count: int, amount: str) -> Offer:
    schedule = tuple(Installment(FIRST + timedelta(days=30 * n), Decimal(amount))
                     for n in range(count))
    return Offer("plan", Decimal(amount) * count, FIRST, schedule, "monthly")


async def _record(container: Container, account_id: int, offer: Offer,
                  origin: ledger.Origin) -> int:
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        plan = await ledger.record_plan(session, account, offer, origin)
        return plan.id


async def _events(container: Container, account_id: int) -> list[AuditEvent]:
    async with container.sessions() as session:
        return list(await session.scalars(select(AuditEvent).where(
            AuditEvent.subject_type == "account", AuditEvent.subject_id == str(account_id))
            .order_by(AuditEvent.id)))


async def test_a_plan_replaced_by_the_bots_plan_is_audited_as_cancelled(
        container: Container, account_id: int) -> None:
    now = container.clock.now()
    agents = ledger.Origin(now=now, actor="agent:7", channel="sms", conversation_id=None)
    first = await _record(container, account_id, _monthly(12, "100.00"), agents)
    bots = ledger.Origin(now=now, actor="bot", channel="sms", conversation_id=None)
    second = await _record(container, account_id, _monthly(2, "600.00"), bots)

    async with container.sessions() as session:
        old = await session.get(PaymentPlan, first)
        assert old is not None and old.status == PlanStatus.CANCELLED
    events = await _events(container, account_id)
    cancelled = [e for e in events if e.action == "plan.cancelled"]
    assert len(cancelled) == 1
    assert cancelled[0].actor == "bot"
    assert cancelled[0].data["plan_id"] == first
    assert cancelled[0].data["reason"] == "replaced"
    assert cancelled[0].data["replaced_by"] == second
    recorded = [e for e in events if e.action == "plan.recorded"]
    assert recorded[-1].data["plan_id"] == second
    assert recorded[-1].data["superseded_plans"] == [first]
    assert recorded[0].data["superseded_plans"] == []


async def test_a_settlement_replaced_is_audited_as_a_cancelled_settlement(
        container: Container, account_id: int) -> None:
    now = container.clock.now()
    origin = ledger.Origin(now=now, actor="agent:7", channel="sms")
    first = await _record(container, account_id, Offer("settlement", Decimal("900"), FIRST),
                          origin)
    await _record(container, account_id, _monthly(12, "100.00"), origin)
    cancelled = [e for e in await _events(container, account_id)
                 if e.action == "settlement.cancelled"]
    assert [e.data["plan_id"] for e in cancelled] == [first]
    assert cancelled[0].actor == "agent:7" and cancelled[0].data["total"] == "900.00"


async def test_a_settlement_total_is_audited_in_cents(
        container: Container, account_id: int) -> None:
    origin = ledger.Origin(now=container.clock.now(), actor="agent:7", channel="sms")
    await _record(container, account_id, Offer("settlement", Decimal("1020"), FIRST), origin)
    recorded = [e for e in await _events(container, account_id)
                if e.action == "settlement.recorded"]
    assert [e.data["total"] for e in recorded] == ["1020.00"]


async def test_a_plan_total_is_audited_in_cents(container: Container, account_id: int) -> None:
    origin = ledger.Origin(now=container.clock.now(), actor="agent:7", channel="sms")
    await _record(container, account_id, _monthly(12, "100"), origin)
    recorded = [e for e in await _events(container, account_id) if e.action == "plan.recorded"]
    assert [e.data["total"] for e in recorded] == ["1200.00"]
