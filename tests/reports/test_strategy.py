"""Strategy dashboard figures against the hand-computed dataset, on SQLite and PostgreSQL.

The sends of `dataset._strategy_sends` and what each is credited with (7-day window; a reply
is an inbound message on the conversation the send went to):
P1 a1 d+1/plain 11-03 09:00 delivered: window ends at P2; reply 09:05, promise 09:00 (same
   instant counts); the 11-05 payment belongs to P2.
P2 a1 promise-reminder 11-04 12:00 sent (not delivered): payment 400.00 on 11-05.
P3 a2 d+1/helpful 11-04 09:00 read: reply 09:30; payment 200.00 on 11-06 (11-12 is too late).
P4 a3 d-3 11-10 08:00 delivered: reply 11:00, promise 09:00.
P5 a4 d+1/plain 11-16 09:00 delivered: promise 11-17 09:00, payment 50.00 on 11-20.
P6 a5 d+1/helpful 10-20 12:00 failed: reply 10-21, promise 10-22, payment 9.99 on 10-25.
A blocked and a planned contact are not sends.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, Conversation
from backend.reports.filters import ReportFilter
from backend.reports.strategy import StrategyReport, strategy_report
from tests.reports.dataset import Builder, Seeded, at


async def report(container: Container, flt: ReportFilter, window_days: int = 7
                 ) -> StrategyReport:
    async with container.sessions() as session:
        return await strategy_report(session, flt, window_days=window_days)


def counts(rows: list) -> list[tuple]:
    return [(r.step, r.variant, r.sent, r.delivered, r.replied, r.promised, r.paid, r.collected)
            for r in rows]


async def test_each_step_and_variant_with_last_touch_credit(
    container: Container, seeded: Seeded
) -> None:
    got = await report(container, ReportFilter())
    assert {r.strategy for r in got.steps} == {"default"}
    assert counts(got.steps) == [
        ("d+1", "helpful", 2, 1, 2, 1, 2, D("209.99")),
        ("d+1", "plain", 2, 2, 1, 2, 1, D("50.00")),
        ("d-3", None, 1, 1, 1, 1, 0, D("0.00")),
        ("promise-reminder", None, 1, 0, 0, 0, 1, D("400.00")),
    ]
    helpful = got.steps[0]
    assert (helpful.delivery_rate, helpful.reply_rate, helpful.promise_rate, helpful.pay_rate,
            helpful.collected_per_send) == (D("0.5000"), D("1.0000"), D("0.5000"),
                                            D("1.0000"), D("105.00"))


async def test_totals_add_up_because_each_response_is_credited_once(
    container: Container, seeded: Seeded
) -> None:
    got = await report(container, ReportFilter())
    assert counts(got.totals) == [("all", None, 6, 4, 4, 4, 4, D("659.99"))]
    assert got.totals[0].reply_rate == D("0.6667")
    assert got.totals[0].collected_per_send == D("110.00")


async def test_a_shorter_window_ends_at_its_exclusive_bound(
    container: Container, seeded: Seeded
) -> None:
    got = await report(container, ReportFilter(), window_days=1)
    # P5's promise is exactly one day after the send: outside [send, send + 1 day).
    assert counts(got.steps) == [
        ("d+1", "helpful", 2, 1, 2, 0, 0, D("0.00")),
        ("d+1", "plain", 2, 2, 1, 1, 0, D("0.00")),
        ("d-3", None, 1, 1, 1, 1, 0, D("0.00")),
        ("promise-reminder", None, 1, 0, 0, 0, 1, D("400.00")),
    ]


async def test_a_date_range_keeps_the_sends_made_in_it(
    container: Container, seeded: Seeded
) -> None:
    got = await report(container, ReportFilter(start=date(2026, 11, 1), end=date(2026, 11, 30)))
    assert counts(got.steps)[0] == ("d+1", "helpful", 1, 1, 1, 0, 1, D("200.00"))
    assert counts(got.totals) == [("all", None, 5, 4, 3, 3, 3, D("650.00"))]


async def test_responses_after_the_range_still_count_for_its_sends(
    container: Container, seeded: Seeded
) -> None:
    # P1 and P2 were sent on 11-03 and 11-04; P2's payment came on 11-05.
    got = await report(container, ReportFilter(start=date(2026, 11, 3), end=date(2026, 11, 4)))
    assert counts(got.totals) == [("all", None, 3, 2, 2, 1, 2, D("600.00"))]


async def test_a_reply_counts_on_the_conversation_the_send_went_to(
    container: Container, seeded: Seeded
) -> None:
    async with container.sessions.begin() as session:
        a4 = await session.scalar(select(Account).where(Account.external_ref == "A4"))
        assert a4 is not None
        b = Builder(session)
        web = await b.conversation("web", a4, at(11, 17))
        await b.inbound(web, at(11, 17, 10), "ask_balance", 0.9)
    plain = (await report(container, ReportFilter(portfolio_id=seeded.mobile))).steps[1]
    assert (plain.step, plain.variant, plain.replied) == ("d+1", "plain", 0)  # P5 went by Telegram
    async with container.sessions.begin() as session:
        telegram = await session.scalar(select(Conversation).where(
            Conversation.account_id == a4.id, Conversation.channel == "telegram"))
        assert telegram is not None
        await Builder(session).inbound(telegram, at(11, 17, 11), "affirm", 0.9)
    plain = (await report(container, ReportFilter(portfolio_id=seeded.mobile))).steps[1]
    assert plain.replied == 1


async def test_a_portfolio_filter(container: Container, seeded: Seeded) -> None:
    got = await report(container, ReportFilter(portfolio_id=seeded.mobile))
    assert counts(got.steps) == [
        ("d+1", "helpful", 1, 0, 1, 1, 1, D("9.99")),
        ("d+1", "plain", 1, 1, 0, 1, 1, D("50.00")),
    ]


async def test_no_sends_gives_an_empty_total(container: Container) -> None:
    got = await report(container, ReportFilter())
    assert got.steps == []
    assert counts(got.totals) == [("all", None, 0, 0, 0, 0, 0, D("0.00"))]
    assert got.totals[0].reply_rate is None


async def test_the_window_is_bounded(container: Container) -> None:
    with pytest.raises(ValueError, match="window_days"):
        await report(container, ReportFilter(), window_days=0)
