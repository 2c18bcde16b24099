"""Conversations without an account (strangers) count in no creditor's outcome rates: the
figures over all books are the sums of the portfolios'."""

from __future__ import annotations

from decimal import Decimal as D

from backend.container import Container
from backend.reports.filters import ReportFilter
from backend.reports.outcomes import outcomes_report
from tests.reports.dataset import Builder, Seeded, at

CONVERSATION_RATES = ("right_party_contact", "promise_to_pay", "opt_out", "complaint")


async def _rates(container: Container, flt: ReportFilter) -> dict[str, tuple[int, int]]:
    async with container.sessions() as session:
        got = await outcomes_report(session, flt)
    return {r.metric: (r.numerator, r.denominator) for r in got.rates
            if r.metric in CONVERSATION_RATES}


async def _strangers_say_hello(container: Container) -> None:
    """Two unknown Telegram users ask who this is; one then opts out."""
    async with container.sessions.begin() as session:
        b = Builder(session)
        b.n = 300
        for day in (13, 14):
            stranger = await b.conversation("telegram", None, at(11, day))
            await b.inbound(stranger, at(11, day, 9), "ask_identity", 0.8)
        await b.inbound(stranger, at(11, 14, 9, 1), "opt_out", 0.99)


async def test_strangers_count_in_no_rate(container: Container, seeded: Seeded) -> None:
    await _strangers_say_hello(container)
    everything = await _rates(container, ReportFilter())
    # c1-c3, c5 and c6 are about accounts; c4 (an unknown SMS sender who opted out) and the
    # two Telegram strangers are not.
    assert everything == {"right_party_contact": (4, 5), "promise_to_pay": (3, 4),
                          "opt_out": (0, 5), "complaint": (1, 5)}
    portfolios = [await _rates(container, ReportFilter(portfolio_id=p))
                  for p in (seeded.cards, seeded.loans, seeded.mobile)]
    for metric in CONVERSATION_RATES:
        parts = [figures[metric] for figures in portfolios]
        assert everything[metric] == (sum(n for n, _ in parts), sum(d for _, d in parts))


async def test_the_rate_itself_leaves_strangers_out(container: Container, seeded: Seeded) -> None:
    await _strangers_say_hello(container)
    async with container.sessions() as session:
        got = await outcomes_report(session, ReportFilter())
    rates = {r.metric: r.rate for r in got.rates}
    assert rates["right_party_contact"] == D("0.8000") and rates["opt_out"] == D("0.0000")
