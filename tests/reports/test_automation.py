"""Automation dashboard figures against the hand-computed dataset, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from backend.container import Container
from backend.reports.automation import AutomationReport, automation_report
from backend.reports.filters import ReportFilter
from tests.reports.dataset import Seeded


async def report(container: Container, flt: ReportFilter, **kwargs: object) -> AutomationReport:
    async with container.sessions() as session:
        return await automation_report(session, flt, **kwargs)  # type: ignore[arg-type]


async def test_containment_by_channel(container: Container, seeded: Seeded) -> None:
    got = await report(container, ReportFilter())
    assert [(c.channel, c.conversations, c.bot_only, c.handed_off, c.containment_rate)
            for c in got.containment] == [
        ("sms", 4, 1, 3, D("0.2500")),
        ("telegram", 1, 1, 0, D("1.0000")),
        ("whatsapp", 1, 0, 1, D("0.0000")),
    ]


async def test_handoffs_by_queue_and_reason_against_the_target(
    container: Container, seeded: Seeded
) -> None:
    got = await report(container, ReportFilter())
    assert [(h.queue, h.reason, h.handoffs, h.claimed, h.closed, h.target_seconds,
             h.within_target, h.within_target_rate, h.avg_first_response_seconds,
             h.max_first_response_seconds) for h in got.handoffs] == [
        ("complaints", "complaint", 1, 1, 1, 900, 1, D("1.0000"), 240.0, 240),
        ("disputes", "dispute", 1, 1, 1, 900, 1, D("1.0000"), 600.0, 600),
        ("hardship", "hardship", 1, 1, 0, 900, 0, D("0.0000"), 1200.0, 1200),
        ("unmatched", "unknown_sender", 1, 0, 0, 900, 0, None, None, None),
    ]


async def test_per_queue_targets(container: Container, seeded: Seeded) -> None:
    got = await report(container, ReportFilter(), target_seconds=300,
                       queue_targets={"hardship": 1200})
    assert [(h.queue, h.target_seconds, h.within_target) for h in got.handoffs] == [
        ("complaints", 300, 1), ("disputes", 300, 0), ("hardship", 1200, 1), ("unmatched", 300, 0)
    ]


async def test_agent_productivity(container: Container, seeded: Seeded) -> None:
    got = await report(container, ReportFilter())
    assert [(a.agent_id, a.name, a.claimed, a.closed, a.avg_first_response_seconds,
             a.avg_handle_seconds, a.messages_sent) for a in got.agents] == [
        (seeded.ana, "Ana", 2, 2, 420.0, 2580.0, 3),
        (seeded.ben, "Ben", 1, 0, 1200.0, None, 1),
    ]


async def test_filters(container: Container, seeded: Seeded) -> None:
    november = await report(container, ReportFilter(start=date(2026, 11, 1)))
    assert [(a.name, a.claimed, a.avg_handle_seconds, a.messages_sent)
            for a in november.agents] == [("Ana", 1, 1560.0, 2), ("Ben", 1, None, 1)]
    assert [c.conversations for c in november.containment] == [3, 1, 1]
    loans = await report(container, ReportFilter(portfolio_id=seeded.loans))
    assert [(c.channel, c.conversations) for c in loans.containment] == [("sms", 1)]
    assert [h.queue for h in loans.handoffs] == ["hardship"]
    assert [(a.name, a.messages_sent) for a in loans.agents] == [("Ben", 1)]
