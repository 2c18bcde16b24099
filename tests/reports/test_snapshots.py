"""All-time snapshots: the refresh job's stored reports equal the live computation exactly."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backend.container import Container
from backend.db.models import Account, Payment, ReportSnapshot
from backend.reports.catalog import DASHBOARDS, Options
from backend.reports.filters import ReportFilter
from backend.reports.refresh import refresh_snapshots
from backend.reports.snapshots import ALL_TIME, decode, encode, stored
from backend.reports_wiring import install_reports, page_options
from tests.reports.dataset import TODAY, Seeded, at

OPTIONS = Options(today=TODAY, threshold=0.6, target_seconds=600,
                  queue_targets={"disputes": 300}, window_days=7)


async def build(container: Container, page: str, flt: ReportFilter, opt: Options) -> object:
    async with container.sessions() as session:
        return await DASHBOARDS[page].build(session, flt, opt)


async def live(container: Container, page: str, flt: ReportFilter, opt: Options) -> object:
    async with container.sessions() as session:
        return await DASHBOARDS[page].live(session, flt, opt)


@pytest.mark.parametrize("page", list(DASHBOARDS))
async def test_the_snapshot_of_every_page_equals_the_live_report(
    container: Container, seeded: Seeded, page: str
) -> None:
    await refresh_snapshots(container.sessions, OPTIONS, at(11, 25, 15))
    snapshot = await build(container, page, ALL_TIME, OPTIONS)
    assert snapshot == await live(container, page, ALL_TIME, OPTIONS)
    assert any(getattr(snapshot, table) for table in DASHBOARDS[page].tables)


async def test_pages_read_the_snapshot_until_the_next_refresh(
    container: Container, seeded: Seeded
) -> None:
    await refresh_snapshots(container.sessions, OPTIONS, at(11, 25, 15))
    before = await build(container, "recovery", ALL_TIME, OPTIONS)
    async with container.sessions.begin() as session:
        account = await session.scalar(select(Account).order_by(Account.id).limit(1))
        assert account is not None
        session.add(Payment(account_id=account.id, amount=Decimal("1.00"), currency="USD",
                            paid_at=at(11, 25, 15, 5), method="card", channel="web",
                            reference="late", created_at=at(11, 25, 15, 5)))
    assert await build(container, "recovery", ALL_TIME, OPTIONS) == before
    fresh = await live(container, "recovery", ALL_TIME, OPTIONS)
    assert fresh.totals[0].collected == before.totals[0].collected + Decimal("1.00")
    await refresh_snapshots(container.sessions, OPTIONS, at(11, 25, 15, 15))
    assert await build(container, "recovery", ALL_TIME, OPTIONS) == fresh


async def test_other_days_options_and_filters_are_computed_live(
    container: Container, seeded: Seeded
) -> None:
    await refresh_snapshots(container.sessions, OPTIONS, at(11, 25, 15))
    async with container.sessions.begin() as session:
        session.add(Payment(account_id=(await session.scalar(select(func.min(Account.id)))),
                            amount=Decimal("2.00"), currency="USD", paid_at=at(11, 25, 16),
                            method="card", channel="web", reference="after",
                            created_at=at(11, 25, 16)))
    tomorrow = Options(today=TODAY + timedelta(days=1))
    other_window = Options(today=TODAY, window_days=3)
    period = ReportFilter(start=TODAY - timedelta(days=60), end=TODAY)
    for page, opt, flt in (("recovery", tomorrow, ALL_TIME), ("strategy", other_window, ALL_TIME),
                           ("recovery", OPTIONS, period),
                           ("recovery", OPTIONS, ReportFilter(portfolio_id=seeded.cards))):
        assert await build(container, page, flt, opt) == await live(container, page, flt, opt)
    assert await build(container, "recovery", ALL_TIME, OPTIONS) != await live(
        container, "recovery", ALL_TIME, OPTIONS)


async def test_a_refresh_keeps_one_snapshot_per_page_and_options_and_only_today(
    container: Container, seeded: Seeded
) -> None:
    yesterday = Options(today=TODAY - timedelta(days=1))
    await refresh_snapshots(container.sessions, yesterday, at(11, 24, 23))
    await refresh_snapshots(container.sessions, OPTIONS, at(11, 25, 15))
    await refresh_snapshots(container.sessions, OPTIONS, at(11, 25, 15, 15))
    async with container.sessions() as session:
        rows = (await session.execute(select(ReportSnapshot.page, ReportSnapshot.today,
                                             ReportSnapshot.computed_at))).all()
    assert sorted(r.page for r in rows) == sorted(DASHBOARDS)
    assert {(r.today, r.computed_at) for r in rows} == {(TODAY, at(11, 25, 15, 15))}


async def test_money_and_rates_survive_the_json_exactly(
    container: Container, seeded: Seeded
) -> None:
    report = await live(container, "recovery", ALL_TIME, OPTIONS)
    again = decode(type(report), encode(report))
    assert again == report
    assert all(isinstance(r.placed, Decimal) for r in again.by_portfolio)


async def test_the_scheduled_job_makes_the_snapshots_the_console_reads(
    container: Container, seeded: Seeded
) -> None:
    install_reports(None, container)
    [job] = [j for j in container.scheduler.jobs if j.name == "reports.snapshots"]
    now = at(11, 25, 15)
    await job.func(now)
    opt = page_options(container, now)
    for page in DASHBOARDS:
        async with container.sessions() as session:
            found = await stored(session, page, DASHBOARDS[page].snapshot_key(opt), opt.today,
                                 DASHBOARDS[page].report_type)
        assert found is not None and found == await live(container, page, ALL_TIME, opt)
