"""The dashboards as data: each one's builder, charts, default CSV table and table titles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.reports.automation import (
    DEFAULT_TARGET_SECONDS,
    AutomationReport,
    automation_report,
)
from backend.reports.charts import (
    automation_charts,
    nlu_charts,
    outcomes_charts,
    recovery_charts,
    strategy_charts,
)
from backend.reports.filters import ReportFilter
from backend.reports.money import has_money
from backend.reports.nlu_health import DEFAULT_THRESHOLD, NluHealthReport, nlu_health_report
from backend.reports.outcomes import OutcomesReport, outcomes_report
from backend.reports.recovery import RecoveryReport, recovery_report
from backend.reports.snapshots import ALL_TIME, stored
from backend.reports.strategy import DEFAULT_WINDOW_DAYS, StrategyReport, strategy_report


@dataclass(frozen=True)
class Options:
    """What the builders need besides the filter (the API and console fill it alike)."""

    today: date
    threshold: float = DEFAULT_THRESHOLD
    target_seconds: int = DEFAULT_TARGET_SECONDS
    queue_targets: Mapping[str, int] = field(default_factory=dict)
    window_days: int = DEFAULT_WINDOW_DAYS


Builder = Callable[[AsyncSession, ReportFilter, Options], Awaitable[Any]]


@dataclass(frozen=True)
class Dashboard:
    """One dashboard page; `live` computes it, `build` prefers today's all-time snapshot."""

    name: str
    title: str
    live: Builder
    report_type: type
    snapshot_key: Callable[[Options], str]  # the options the figures depend on
    charts: Callable[[Any], dict[str, str]]
    default_table: str
    tables: dict[str, str]  # table name -> heading, in page order
    note: str = ""

    @property
    def money(self) -> bool:
        """True when the page shows amounts (so unlike currencies matter)."""
        return has_money(self.report_type)

    async def build(self, session: AsyncSession, flt: ReportFilter, opt: Options) -> Any:
        """The page's report: all time from the refresh job's snapshot when it computed one
        today for these options (recomputing all history costs seconds), else live. Its age
        is not judged here: the console and the API read through `source.figures`, which
        refreshes a stale one and says when the figures were computed."""
        if flt == ALL_TIME:
            found = await stored(session, self.name, self.snapshot_key(opt), opt.today,
                                 self.report_type)
            if found is not None:
                return found
        return await self.live(session, flt, opt)


async def _recovery(session: AsyncSession, flt: ReportFilter, opt: Options) -> Any:
    return await recovery_report(session, flt, opt.today)


async def _outcomes(session: AsyncSession, flt: ReportFilter, opt: Options) -> Any:
    return await outcomes_report(session, flt)


async def _automation(session: AsyncSession, flt: ReportFilter, opt: Options) -> Any:
    return await automation_report(session, flt, target_seconds=opt.target_seconds,
                                   queue_targets=opt.queue_targets)


async def _strategy(session: AsyncSession, flt: ReportFilter, opt: Options) -> Any:
    return await strategy_report(session, flt, window_days=opt.window_days)


async def _nlu(session: AsyncSession, flt: ReportFilter, opt: Options) -> Any:
    return await nlu_health_report(session, flt, threshold=opt.threshold)


def _no_options(_opt: Options) -> str:
    return ""


def _automation_key(opt: Options) -> str:
    queues = ",".join(f"{q}={s}" for q, s in sorted(opt.queue_targets.items()))
    return f"target={opt.target_seconds};queues={queues}"


def _strategy_key(opt: Options) -> str:
    return f"window={opt.window_days}"


def _nlu_key(opt: Options) -> str:
    return f"threshold={opt.threshold!r}"


DASHBOARDS: dict[str, Dashboard] = {d.name: d for d in (
    Dashboard("recovery", "Recovery", _recovery, RecoveryReport, _no_options, recovery_charts,
              "by_portfolio", {
        "totals": "All accounts placed in the period",
        "by_portfolio": "By portfolio", "by_creditor": "By creditor",
        "by_dpd_bucket": "By days past due (today)", "by_week": "By week placed",
        "aging": "Aging of the open balance (today)",
        "payments_by_channel": "Payments by channel and method",
        "collected_by_week": "Cash collected by week",
    }, "Accounts placed in the period and what was paid on them; cash as received."),
    Dashboard("outcomes", "Outcomes", _outcomes, OutcomesReport, _no_options, outcomes_charts,
              "rates", {
        "rates": "Rates", "promises_by_status": "Promises to pay by status",
        "plans_by_status": "Payment plans and settlements by status",
        "disputes_by_status": "Disputes by status",
        "stop_states": "Stop-states and hardship (accounts placed in the period)",
    }, "Rates over conversations started in the period; records made in it."),
    Dashboard("automation", "Automation", _automation, AutomationReport, _automation_key,
              automation_charts, "handoffs", {
        "containment": "Resolved by the bot alone vs handed off, by channel",
        "handoffs": "Handoffs by queue and reason against the queue's target",
        "agents": "Agent productivity",
    }, "First response is from the handoff to an agent's claim."),
    Dashboard("strategy", "Strategy", _strategy, StrategyReport, _strategy_key,
              strategy_charts, "steps", {
        "totals": "All workflow sends", "steps": "By strategy step and A/B variant",
    }, "Replies, promises and payments are credited to the account's latest send before "
       "them, within the attribution window (last touch)."),
    Dashboard("nlu", "NLU health", _nlu, NluHealthReport, _nlu_key, nlu_charts, "intents", {
        "summary": "Inbound messages", "intents": "Intent mix",
        "corrections": "Corrections by agents",
    }, "Inbound messages received in the period."),
)}
