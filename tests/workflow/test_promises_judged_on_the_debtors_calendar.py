"""Promises and installments are judged by the debtor's calendar day, and a payment counts
toward a promise when it was paid by the end of the promise's judging day, whenever posted."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, Installment, Promise
from backend.services import ledger
from backend.workflow.lifecycle import run_lifecycles
from backend.workflow.strategy import Lifecycle
from bot.clock import SettableClock
from bot.facts import Installment as Due
from bot.facts import Offer
from tests.workflow import seed

D = Decimal
UTC = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
DUE = date(2026, 12, 18)  # judged on Dec 19, the one grace day after


async def _promised(container: Container, now: datetime, amount: str, due: date = DUE,
                    zone: str = "America/New_York") -> tuple[int, int]:
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        account = await seed.account(session, folio, now, now.date(), zone=zone)
        promise = await ledger.record_promise(session, account, D(amount), due,
                                              ledger.Origin(now))
    return account.id, promise.id


async def _pay(container: Container, account_id: int, amount: str, reference: str,
               posted_at: datetime, paid_at: datetime | None = None) -> ledger.Posted:
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        return await ledger.post_payment(session, account, D(amount), reference,
                                         ledger.Origin(posted_at), paid_at=paid_at)


async def _judge(container: Container, at: datetime, life: Lifecycle | None = None) -> None:
    async with container.sessions.begin() as session:
        await run_lifecycles(session, at, life or Lifecycle())


async def _promise(container: Container, promise_id: int) -> tuple[str, Decimal]:
    async with container.sessions() as session:
        promise = await session.get(Promise, promise_id)
    assert promise is not None
    return promise.status, promise.paid_amount


async def _promise_events(container: Container) -> list[str]:
    async with container.sessions() as session:
        rows = await session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("promise.%")).order_by(AuditEvent.id))
        return list(rows.all())


# The debtor's calendar (docs/WORKFLOW.md): a promise is judged grace days after its date.

async def test_a_promise_due_today_in_los_angeles_is_not_broken_by_utcs_tomorrow(
    container: Container, clock: SettableClock,
) -> None:
    made = datetime(2026, 12, 18, 1, 45, tzinfo=UTC)  # 17:45 on Dec 17 in Los Angeles
    account_id, promise_id = await _promised(container, made, "50.00", date(2026, 12, 17),
                                             zone="America/Los_Angeles")
    await _judge(container, made + timedelta(minutes=15))
    await _judge(container, datetime(2026, 12, 18, 7, 59, tzinfo=UTC))  # 23:59 on Dec 17 LA
    assert await _promise(container, promise_id) == ("pending", D("0.00"))
    await _pay(container, account_id, "50.00", "LINK-1", made + timedelta(minutes=20))
    assert await _promise(container, promise_id) == ("kept", D("50.00"))


async def test_a_promise_breaks_once_the_debtors_judging_day_has_come(
    container: Container, clock: SettableClock,
) -> None:
    made = datetime(2026, 12, 17, 20, 0, tzinfo=UTC)
    _, promise_id = await _promised(container, made, "50.00", date(2026, 12, 17),
                                    zone="America/Los_Angeles")
    await _judge(container, datetime(2026, 12, 18, 7, 59, tzinfo=UTC))  # Dec 17 23:59 in LA
    assert await _promise(container, promise_id) == ("pending", D("0.00"))
    await _judge(container, datetime(2026, 12, 18, 8, 0, tzinfo=UTC))  # Dec 18 00:00 in LA
    assert await _promise(container, promise_id) == ("broken", D("0.00"))


async def _planned(container: Container, now: datetime, zone: str) -> int:
    """A plan of two installments, the first due Dec 17; its id."""
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        account = await seed.account(session, folio, now, now.date(), zone=zone)
        first = date(2026, 12, 17)
        plan = await ledger.record_plan(session, account, Offer(
            "plan", D("200.00"), first, frequency="weekly", schedule=(
                Due(first, D("100.00")), Due(first + timedelta(weeks=1), D("100.00")))),
            ledger.Origin(now))
    return plan.id


async def _first_installment(container: Container, plan_id: int) -> str:
    async with container.sessions() as session:
        status = await session.scalar(select(Installment.status).where(
            Installment.plan_id == plan_id, Installment.seq == 1))
    return str(status)


async def test_an_installment_is_missed_by_the_debtors_day_west_of_utc(
    container: Container, clock: SettableClock,
) -> None:
    plan_id = await _planned(container, clock.now(), "America/Los_Angeles")
    await _judge(container, datetime(2026, 12, 20, 2, 0, tzinfo=UTC))  # Dec 19 18:00 in LA
    assert await _first_installment(container, plan_id) == "due"
    await _judge(container, datetime(2026, 12, 20, 8, 0, tzinfo=UTC))  # Dec 20 00:00 in LA
    assert await _first_installment(container, plan_id) == "missed"


async def test_an_installment_is_missed_by_the_debtors_day_east_of_utc(
    container: Container, clock: SettableClock,
) -> None:
    plan_id = await _planned(container, clock.now(), "Asia/Tokyo")
    await _judge(container, datetime(2026, 12, 19, 14, 0, tzinfo=UTC))  # Dec 19 23:00 Tokyo
    assert await _first_installment(container, plan_id) == "due"
    await _judge(container, datetime(2026, 12, 19, 16, 0, tzinfo=UTC))  # Dec 20 01:00 Tokyo
    assert await _first_installment(container, plan_id) == "missed"


# A payment counts toward a promise when it was paid by the end of its judging day.

async def test_a_payment_paid_on_time_and_posted_late_keeps_a_broken_promise(
    container: Container, clock: SettableClock,
) -> None:
    account_id, promise_id = await _promised(container, clock.now(), "100.00")
    await _judge(container, datetime(2026, 12, 20, 12, 0, tzinfo=UTC))
    assert await _promise(container, promise_id) == ("broken", D("0.00"))
    posted = await _pay(container, account_id, "100.00", "BILL-13",
                        datetime(2026, 12, 21, 15, 0, tzinfo=UTC),
                        paid_at=datetime(2026, 12, 18, 12, 0, tzinfo=NEW_YORK))
    assert posted.applied_to == "promise"
    assert await _promise(container, promise_id) == ("kept", D("100.00"))
    assert await _promise_events(container) == [
        "promise.recorded", "promise.broken", "promise.kept"]


async def test_paid_before_midnight_of_the_judging_day_in_the_debtors_zone_counts(
    container: Container, clock: SettableClock,
) -> None:
    account_id, promise_id = await _promised(container, clock.now(), "100.00")
    await _judge(container, datetime(2026, 12, 20, 12, 0, tzinfo=UTC))
    await _pay(container, account_id, "40.00", "BILL-1", datetime(2026, 12, 21, tzinfo=UTC),
               paid_at=datetime(2026, 12, 19, 23, 30, tzinfo=NEW_YORK))  # Dec 20 in UTC
    assert await _promise(container, promise_id) == ("partially_kept", D("40.00"))
    assert (await _promise_events(container))[-1] == "promise.partially_kept"


async def test_a_payment_after_the_judging_day_changes_no_verdict(
    container: Container, clock: SettableClock,
) -> None:
    account_id, promise_id = await _promised(container, clock.now(), "300.00")
    await _pay(container, account_id, "100.10", "BILL-1", datetime(2026, 12, 17, 15, 0,
                                                                   tzinfo=UTC))
    await _judge(container, datetime(2026, 12, 20, 12, 0, tzinfo=UTC))
    assert await _promise(container, promise_id) == ("partially_kept", D("100.10"))
    events = await _promise_events(container)
    await _pay(container, account_id, "199.90", "BILL-2", datetime(2026, 12, 22, 15, 0,
                                                                   tzinfo=UTC))
    assert await _promise(container, promise_id) == ("partially_kept", D("100.10"))
    assert await _promise_events(container) == events


async def test_a_broken_promise_paid_in_full_later_stays_broken(
    container: Container, clock: SettableClock,
) -> None:
    account_id, promise_id = await _promised(container, clock.now(), "100.00")
    await _judge(container, datetime(2026, 12, 20, 12, 0, tzinfo=UTC))
    posted = await _pay(container, account_id, "100.00", "BILL-1",
                        datetime(2026, 12, 22, 15, 0, tzinfo=UTC))
    assert posted.applied_to is None
    assert await _promise(container, promise_id) == ("broken", D("0.00"))
