"""The periodic job that recomputes today's all-time dashboards into snapshots."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.db.models import ReportSnapshot
from backend.reports.catalog import DASHBOARDS, Options
from backend.reports.snapshots import ALL_TIME, store

log = logging.getLogger(__name__)
# How old an all-time page may be; on SAQ workers it becomes a cron of the same period.
REFRESH_EVERY = timedelta(minutes=15)


async def refresh_snapshots(sessions: async_sessionmaker[AsyncSession], opt: Options,
                            now: datetime) -> dict[str, float]:
    """Compute every dashboard over all time, live, and store it for `opt.today`.

    One transaction per page, so a page's figures are consistent as of its refresh.
    Returns the seconds each page took.
    """
    seconds = {}
    for dashboard in DASHBOARDS.values():
        started = time.perf_counter()
        async with sessions.begin() as session:
            report = await dashboard.live(session, ALL_TIME, opt)
            await store(session, dashboard.name, dashboard.snapshot_key(opt), opt.today,
                        report, now)
        seconds[dashboard.name] = time.perf_counter() - started
    async with sessions.begin() as session:
        # Earlier days' snapshots are never read again (a page asks for today's).
        await session.execute(delete(ReportSnapshot).where(ReportSnapshot.today < opt.today))
    log.info("all-time report snapshots refreshed in %.1f s", sum(seconds.values()))
    return seconds
