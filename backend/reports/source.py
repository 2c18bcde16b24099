"""Where a dashboard's figures come from, for the console and the API alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.reports.catalog import Dashboard, Options
from backend.reports.filters import ReportFilter, currencies_in_scope
from backend.reports.money import display_currency, in_minor_units
from backend.reports.refresh import REFRESH_EVERY
from backend.reports.snapshots import ALL_TIME, store, stored_at


@dataclass(frozen=True)
class Figures:
    """A report, amounts in their currency's minor units, and the instant it is true of."""

    report: Any
    as_of: datetime
    snapshot: bool  # an all-time snapshot (at most REFRESH_EVERY old), else computed now
    currencies: list[str]  # of the accounts in the filter's portfolio or creditor


async def figures(sessions: async_sessionmaker[AsyncSession], dashboard: Dashboard,
                  flt: ReportFilter, opt: Options, now: datetime,
                  snapshot_options: Options | None) -> Figures:
    """The page's figures: all time for the refresh job's options (`snapshot_options`; None:
    never) from its snapshot while fresh — one missing or stale is computed now and stored —,
    anything else computed now."""
    snapshot = _snapshotted(dashboard, flt, opt, snapshot_options)
    if snapshot:
        report, as_of = await _snapshot(sessions, dashboard, opt, now)
    else:
        async with sessions() as session:
            report, as_of = await dashboard.live(session, flt, opt), now
    async with sessions() as session:
        currencies = await currencies_in_scope(session, flt)
    report = in_minor_units(report, display_currency(flt.currency, currencies))
    return Figures(report, as_of, snapshot, currencies)


def _snapshotted(dashboard: Dashboard, flt: ReportFilter, opt: Options,
                 snapshot_options: Options | None) -> bool:
    return (flt == ALL_TIME and snapshot_options is not None
            and opt.today == snapshot_options.today
            and dashboard.snapshot_key(opt) == dashboard.snapshot_key(snapshot_options))


async def _snapshot(sessions: async_sessionmaker[AsyncSession], dashboard: Dashboard,
                    opt: Options, now: datetime) -> tuple[Any, datetime]:
    key = dashboard.snapshot_key(opt)
    async with sessions() as session:
        found = await stored_at(session, dashboard.name, key, opt.today, dashboard.report_type)
    if found is not None and now - found[1] <= REFRESH_EVERY:
        return found
    # Missing (before the job's first run of the day) or stale (the job is late or stopped).
    async with sessions() as session:
        report = await dashboard.live(session, ALL_TIME, opt)
    try:
        async with sessions.begin() as session:
            await store(session, dashboard.name, key, opt.today, report, now)
    except IntegrityError:
        pass  # another request stored the same refresh first; these figures are as true
    return report, now
