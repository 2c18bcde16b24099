"""Outcomes dashboard figures against the hand-computed dataset, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from backend.container import Container
from backend.reports.filters import ReportFilter
from backend.reports.outcomes import OutcomesReport, outcomes_report
from tests.reports.dataset import Seeded


async def report(container: Container, flt: ReportFilter) -> OutcomesReport:
    async with container.sessions() as session:
        return await outcomes_report(session, flt)


def rates(got: OutcomesReport) -> dict[str, tuple]:
    return {r.metric: (r.numerator, r.denominator, r.rate) for r in got.rates}


async def test_rates_over_all_conversations(container: Container, seeded: Seeded) -> None:
    got = await report(container, ReportFilter())
    # Right party: c1, c2, c3, c6 verified (c6 on its second try); c5 never did. c4, an
    # unknown sender who opted out, is about no account: no creditor's rate counts it.
    assert rates(got) == {
        "right_party_contact": (4, 5, D("0.8000")),
        "promise_to_pay": (3, 4, D("0.7500")),
        "opt_out": (0, 5, D("0.0000")),
        "complaint": (1, 5, D("0.2000")),
        "promise_kept": (1, 3, D("0.3333")),
    }


async def test_promises_plans_disputes_and_stop_states(
    container: Container, seeded: Seeded
) -> None:
    got = await report(container, ReportFilter())
    assert [(p.status, p.promises, p.amount, p.paid_amount) for p in got.promises_by_status] == [
        ("broken", 1, D("99.99"), D("0.00")),
        ("kept", 1, D("400.00"), D("400.00")),
        ("partially_kept", 1, D("100.00"), D("50.00")),
        ("pending", 1, D("200.00"), D("0.00")),
    ]
    assert [(p.status, p.plans, p.total, p.settlements, p.settlement_total)
            for p in got.plans_by_status] == [
        ("active", 2, D("2080.00"), 1, D("80.00")),
        ("broken", 1, D("200.00"), 1, D("200.00")),
        ("completed", 1, D("500.00"), 0, D("0.00")),
    ]
    assert [(d.name, d.count) for d in got.disputes_by_status] == [("open", 1), ("resolved", 1)]
    assert {s.name: s.count for s in got.stop_states} == {
        "dispute": 2, "cease": 1, "attorney": 0, "bankruptcy": 0, "deceased": 0, "hardship": 1,
    }


async def test_a_date_range_keeps_what_started_in_it(container: Container, seeded: Seeded) -> None:
    got = await report(container, ReportFilter(start=date(2026, 11, 1), end=date(2026, 11, 30)))
    assert rates(got) == {
        "right_party_contact": (3, 4, D("0.7500")),
        "promise_to_pay": (2, 3, D("0.6667")),
        "opt_out": (0, 4, D("0.0000")),
        "complaint": (1, 4, D("0.2500")),
        "promise_kept": (1, 2, D("0.5000")),
    }
    assert [(p.status, p.plans) for p in got.plans_by_status] == [
        ("active", 1), ("broken", 1), ("completed", 1)
    ]
    assert [(d.name, d.count) for d in got.disputes_by_status] == [("resolved", 1)]
    assert {s.name: s.count for s in got.stop_states if s.count} == {
        "dispute": 1, "cease": 1, "hardship": 1
    }


async def test_a_portfolio_filter_drops_conversations_without_its_accounts(
    container: Container, seeded: Seeded
) -> None:
    got = await report(container, ReportFilter(portfolio_id=seeded.mobile))
    assert rates(got) == {
        "right_party_contact": (1, 2, D("0.5000")),
        "promise_to_pay": (1, 1, D("1.0000")),
        "opt_out": (0, 2, D("0.0000")),
        "complaint": (0, 2, D("0.0000")),
        "promise_kept": (0, 2, D("0.0000")),
    }
    assert [p.status for p in got.promises_by_status] == ["broken", "partially_kept"]
    assert [(d.name, d.count) for d in got.disputes_by_status] == [("open", 1), ("resolved", 1)]


async def test_no_conversations_gives_no_rates(container: Container) -> None:
    got = await report(container, ReportFilter())
    assert {r.metric: (r.numerator, r.rate) for r in got.rates} == {
        "right_party_contact": (0, None), "promise_to_pay": (0, None), "opt_out": (0, None),
        "complaint": (0, None), "promise_kept": (0, None),
    }
