"""A refunded payment collected only what was kept: dashboards, strategy page and snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal as D

from sqlalchemy import update

from backend.container import Container
from backend.db.models import Payment
from backend.reports.catalog import DASHBOARDS, Options
from backend.reports.csv import table_to_csv
from backend.reports.filters import ReportFilter
from backend.reports.recovery import RecoveryReport, recovery_report
from backend.reports.refresh import refresh_snapshots
from backend.reports.snapshots import stored
from backend.reports.strategy import StrategyReport, strategy_report
from backend.reports.tables import tables_of
from tests.reports.dataset import TODAY, Seeded


async def _refund_the_sms_payment(container: Container) -> None:
    """The dataset's 400.00 card payment by SMS (week of 11-02, credited to the promise
    reminder) has 100.00 of it given back."""
    async with container.sessions.begin() as session:
        changed = await session.execute(update(Payment).where(Payment.amount == D("400.00"))
                                        .values(refunded_amount=D("100.00")))
        assert changed.rowcount == 1


async def test_the_recovery_dashboard_counts_what_was_kept(
    container: Container, seeded: Seeded
) -> None:
    await _refund_the_sms_payment(container)
    async with container.sessions() as session:
        got = await recovery_report(session, ReportFilter(), TODAY)
    [total] = got.totals
    assert (total.collected, total.recovery_rate) == (D("859.99"), D("0.2205"))
    assert [(p.channel, p.amount) for p in got.payments_by_channel if p.channel == "sms"] == [
        ("sms", D("300.00"))]
    assert [(c.week, c.amount) for c in got.collected_by_week if c.week == "2026-11-02"] == [
        ("2026-11-02", D("500.00"))]
    assert "859.99" in table_to_csv(tables_of(got)["totals"])


async def test_the_strategy_page_credits_what_was_kept(
    container: Container, seeded: Seeded
) -> None:
    await _refund_the_sms_payment(container)
    async with container.sessions() as session:
        got = await strategy_report(session, ReportFilter(), window_days=7)
    [reminder] = [r for r in got.steps if r.step == "promise-reminder"]
    assert reminder.collected == D("300.00")


async def test_the_snapshots_store_what_was_kept(container: Container, seeded: Seeded) -> None:
    await _refund_the_sms_payment(container)
    opt = Options(today=TODAY)
    await refresh_snapshots(container.sessions, opt, datetime.combine(TODAY, time(12), UTC))
    async with container.sessions() as session:
        recovery = await stored(session, "recovery", DASHBOARDS["recovery"].snapshot_key(opt),
                                TODAY, RecoveryReport)
        strategy = await stored(session, "strategy", DASHBOARDS["strategy"].snapshot_key(opt),
                                TODAY, StrategyReport)
    assert recovery.totals[0].collected == D("859.99")
    assert [r.collected for r in strategy.steps if r.step == "promise-reminder"] == [
        D("300.00")]
