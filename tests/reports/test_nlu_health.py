"""NLU health figures against the hand-computed dataset, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from backend.container import Container
from backend.reports.filters import ReportFilter
from backend.reports.nlu_health import NluHealthReport, nlu_health_report
from tests.reports.dataset import Seeded


async def report(container: Container, flt: ReportFilter, **kwargs: float) -> NluHealthReport:
    async with container.sessions() as session:
        return await nlu_health_report(session, flt, **kwargs)


async def test_intent_mix_and_low_confidence(container: Container, seeded: Seeded) -> None:
    got = await report(container, ReportFilter())
    assert [(i.intent, i.messages, i.share, i.low_confidence, i.low_confidence_rate,
             i.avg_confidence) for i in got.intents] == [
        ("promise_to_pay", 2, D("0.2500"), 1, D("0.5000"), 0.685),
        ("(none)", 1, D("0.1250"), 0, D("0.0000"), None),
        ("complaint", 1, D("0.1250"), 1, D("1.0000"), 0.4),
        ("dispute_debt", 1, D("0.1250"), 1, D("1.0000"), 0.3),
        ("hardship", 1, D("0.1250"), 0, D("0.0000"), 0.75),
        ("opt_out", 1, D("0.1250"), 0, D("0.0000"), 0.99),
        ("request_agent", 1, D("0.1250"), 0, D("0.0000"), 0.88),
    ]
    summary = got.summary[0]
    # Only messages the NLU read (with an intent) count: identity answers carry none.
    assert (summary.messages, summary.low_confidence, summary.low_confidence_rate) == (
        7, 3, D("0.4286")
    )
    assert (summary.corrected, summary.corrected_rate) == (1, D("0.1429"))


async def test_the_threshold_is_a_parameter(container: Container, seeded: Seeded) -> None:
    got = await report(container, ReportFilter(), threshold=0.8)
    assert got.summary[0].low_confidence == 4  # 0.45, 0.40, 0.30 and 0.75
    assert {i.intent: i.low_confidence for i in got.intents}["hardship"] == 1


async def test_corrections_by_agents(container: Container, seeded: Seeded) -> None:
    got = await report(container, ReportFilter())
    assert [(c.original_intent, c.corrected_intent, c.corrections) for c in got.corrections] == [
        ("(none)", "hardship", 1), ("complaint", "dispute_debt", 1)
    ]


async def test_filters(container: Container, seeded: Seeded) -> None:
    november = await report(container, ReportFilter(start=date(2026, 11, 1)))
    summary = november.summary[0]
    assert (summary.messages, summary.low_confidence, summary.low_confidence_rate,
            summary.corrected) == (6, 2, D("0.3333"), 1)
    mobile = await report(container, ReportFilter(portfolio_id=seeded.mobile))
    assert [(i.intent, i.messages) for i in mobile.intents] == [
        ("(none)", 1), ("dispute_debt", 1)
    ]
    assert [c.corrected_intent for c in mobile.corrections] == ["hardship"]
