"""NLU health rates count only the messages the NLU read: identity answers carry no intent."""

from __future__ import annotations

from decimal import Decimal as D

from backend.container import Container
from backend.reports.filters import ReportFilter
from backend.reports.nlu_health import nlu_health_report
from tests.reports.dataset import Builder, Seeded, at


async def test_the_reviewers_twenty_messages_twelve_read_three_unsure(
    container: Container
) -> None:
    async with container.sessions.begin() as session:
        b = Builder(session)
        conv = await b.conversation("sms", None, at(11, 2))
        for n in range(8):  # date of birth, ZIP code, account ending: never read
            await b.inbound(conv, at(11, 2, 9, n), None, None)
        for n, confidence in enumerate([0.2, 0.3, 0.4] + [0.9] * 9):
            await b.inbound(conv, at(11, 2, 10, n), "promise_to_pay", confidence)
    async with container.sessions() as session:
        report = await nlu_health_report(session, ReportFilter())
    summary = report.summary[0]
    assert (summary.messages, summary.low_confidence, summary.low_confidence_rate) == (
        12, 3, D("0.2500"))
    assert {i.intent: i.messages for i in report.intents} == {"promise_to_pay": 12, "(none)": 8}


async def test_the_datasets_summary_leaves_out_the_unread_message_and_its_correction(
    container: Container, seeded: Seeded
) -> None:
    async with container.sessions() as session:
        summary = (await nlu_health_report(session, ReportFilter())).summary[0]
    assert (summary.messages, summary.low_confidence, summary.low_confidence_rate) == (
        7, 3, D("0.4286"))
    assert (summary.corrected, summary.corrected_rate) == (1, D("0.1429"))
