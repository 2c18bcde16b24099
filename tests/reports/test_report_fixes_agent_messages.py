"""Agent productivity counts the messages an agent sent, not those that never left."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Conversation
from backend.reports.automation import AutomationReport, automation_report
from backend.reports.filters import ReportFilter
from backend.reports.view import label
from tests.reports.dataset import Builder, Seeded, at

NOT_SENT = ("blocked", "deferred", "pending", "queued", "failed", "undelivered")


async def report(container: Container, flt: ReportFilter) -> AutomationReport:
    async with container.sessions() as session:
        return await automation_report(session, flt)


async def test_blocked_deferred_and_failed_messages_are_not_sent(
    container: Container, seeded: Seeded
) -> None:
    async with container.sessions.begin() as session:
        b = Builder(session)
        c2, c3 = (await session.scalars(
            select(Conversation).order_by(Conversation.id).offset(1).limit(2))).all()
        for minute, status in enumerate((*NOT_SENT, "sent", "read"), start=10):
            await b.outbound(c2, at(11, 4, 10, minute), f"agent:{seeded.ana}", status)
        await b.outbound(c3, at(11, 10, 12, 30), f"agent:{seeded.ben}", "blocked")
    got = await report(container, ReportFilter())
    # Ana: her three delivered replies of the dataset, and the sent and read ones here.
    assert [(a.name, a.messages_sent) for a in got.agents] == [("Ana", 5), ("Ben", 1)]
    november = await report(container, ReportFilter(start=date(2026, 11, 1)))
    assert [(a.name, a.messages_sent) for a in november.agents] == [("Ana", 4), ("Ben", 1)]
    assert label("messages_sent") == "Messages sent"
