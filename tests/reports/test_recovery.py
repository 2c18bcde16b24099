"""Recovery dashboard figures against the hand-computed dataset, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from backend.container import Container
from backend.reports.filters import ReportFilter
from backend.reports.recovery import RecoveryReport, recovery_report
from tests.reports.dataset import TODAY, Seeded

NOVEMBER = ReportFilter(start=date(2026, 11, 1), end=date(2026, 11, 30))


async def report(container: Container, flt: ReportFilter) -> RecoveryReport:
    async with container.sessions() as session:
        return await recovery_report(session, flt, TODAY)


def figures(rows: list) -> list[tuple]:
    return [(r.label, r.accounts, r.placed, r.collected, r.recovery_rate) for r in rows]


async def test_totals_and_breakdowns_over_all_accounts(
    container: Container, seeded: Seeded
) -> None:
    got = await report(container, ReportFilter())
    assert figures(got.totals) == [("all", 5, D("3899.99"), D("959.99"), D("0.2462"))]
    assert figures(got.by_portfolio) == [
        ("Acme Bank / Cards", 2, D("1500.00"), D("900.00"), D("0.6000")),
        ("Acme Bank / Loans", 1, D("2000.00"), D("0.00"), D("0.0000")),
        ("Beta Telco / Mobile", 2, D("399.99"), D("59.99"), D("0.1500")),
    ]
    assert [r.key for r in got.by_portfolio] == [
        str(seeded.cards), str(seeded.loans), str(seeded.mobile)
    ]
    assert figures(got.by_creditor) == [
        ("Acme Bank", 3, D("3500.00"), D("900.00"), D("0.2571")),
        ("Beta Telco", 2, D("399.99"), D("59.99"), D("0.1500")),
    ]
    assert figures(got.by_dpd_bucket) == [
        ("current", 1, D("2000.00"), D("0.00"), D("0.0000")),
        ("1-30", 1, D("1000.00"), D("400.00"), D("0.4000")),
        ("31-60", 1, D("99.99"), D("9.99"), D("0.0999")),
        ("61-90", 1, D("500.00"), D("500.00"), D("1.0000")),
        ("181+", 1, D("300.00"), D("50.00"), D("0.1667")),
    ]
    assert figures(got.by_week) == [
        ("2026-10-19", 1, D("99.99"), D("9.99"), D("0.0999")),
        ("2026-11-02", 2, D("1500.00"), D("900.00"), D("0.6000")),
        ("2026-11-09", 1, D("2000.00"), D("0.00"), D("0.0000")),
        ("2026-11-16", 1, D("300.00"), D("50.00"), D("0.1667")),
    ]


async def test_aging_of_the_open_balance(container: Container, seeded: Seeded) -> None:
    got = await report(container, ReportFilter())
    assert [(a.bucket, a.open_accounts, a.open_balance, a.share) for a in got.aging] == [
        ("current", 1, D("2000.00"), D("0.6780")),
        ("1-30", 1, D("600.00"), D("0.2034")),
        ("31-60", 1, D("99.99"), D("0.0339")),
        ("61-90", 0, D("0.00"), D("0.0000")),
        ("91-180", 0, D("0.00"), D("0.0000")),
        ("181+", 1, D("250.00"), D("0.0847")),
    ]


async def test_payments_by_channel_method_and_week(container: Container, seeded: Seeded) -> None:
    got = await report(container, ReportFilter())
    assert [(p.channel, p.method, p.payments, p.amount) for p in got.payments_by_channel] == [
        ("none", "card", 1, D("50.00")),
        ("sms", "card", 1, D("400.00")),
        ("web", "bank_transfer", 1, D("300.00")),
        ("web", "card", 1, D("200.00")),
        ("whatsapp", "card", 1, D("9.99")),
    ]
    assert [(c.week, c.payments, c.amount) for c in got.collected_by_week] == [
        ("2026-10-19", 1, D("9.99")),
        ("2026-11-02", 2, D("600.00")),
        ("2026-11-09", 1, D("300.00")),
        ("2026-11-16", 1, D("50.00")),
    ]


async def test_a_date_range_keeps_accounts_placed_and_payments_made_in_it(
    container: Container, seeded: Seeded
) -> None:
    got = await report(container, NOVEMBER)
    assert figures(got.totals) == [("all", 4, D("3800.00"), D("950.00"), D("0.2500"))]
    assert [c.week for c in got.collected_by_week] == ["2026-11-02", "2026-11-09", "2026-11-16"]
    assert sum(p.payments for p in got.payments_by_channel) == 4
    assert [a.open_balance for a in got.aging if a.open_accounts] == [
        D("2000.00"), D("600.00"), D("250.00")
    ]


async def test_payments_after_the_range_do_not_count_as_collected(
    container: Container, seeded: Seeded
) -> None:
    got = await report(container, ReportFilter(end=date(2026, 11, 10)))
    # A1 paid 400 (Nov 5), A2 200 (Nov 6; its 300 on Nov 12 is later), A5 9.99; A4 placed later.
    assert figures(got.totals) == [("all", 4, D("3599.99"), D("609.99"), D("0.1694"))]


async def test_portfolio_and_creditor_filters(container: Container, seeded: Seeded) -> None:
    mobile = await report(container, ReportFilter(portfolio_id=seeded.mobile))
    assert figures(mobile.totals) == [("all", 2, D("399.99"), D("59.99"), D("0.1500"))]
    assert [(p.channel, p.amount) for p in mobile.payments_by_channel] == [
        ("none", D("50.00")), ("whatsapp", D("9.99"))
    ]
    acme = await report(container, ReportFilter(creditor_id=seeded.acme, start=date(2026, 11, 9)))
    assert figures(acme.totals) == [("all", 1, D("2000.00"), D("0.00"), D("0.0000"))]
    assert [(c.week, c.amount) for c in acme.collected_by_week] == [("2026-11-09", D("300.00"))]


async def test_an_empty_database_gives_empty_tables(container: Container) -> None:
    got = await report(container, ReportFilter())
    assert got.totals == [] and got.by_portfolio == [] and got.collected_by_week == []
    assert {a.open_balance for a in got.aging} == {D("0.00")}
    assert {a.share for a in got.aging} == {None}
