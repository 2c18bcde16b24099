"""Right-party contact is a conversation whose person passed identity verification."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, Promise
from backend.reports.filters import ReportFilter
from backend.reports.outcomes import OutcomesReport, outcomes_report
from backend.services import audit
from tests.reports.dataset import Builder, Seeded, at


async def report(container: Container, flt: ReportFilter) -> OutcomesReport:
    async with container.sessions() as session:
        return await outcomes_report(session, flt)


def rates(got: OutcomesReport) -> dict[str, tuple]:
    return {r.metric: (r.numerator, r.denominator, r.rate) for r in got.rates}


async def add_portal_conversations(container: Container) -> None:
    """Three portal conversations on Cards accounts, each debtor writing from the link.

    c7 never verified, c8 failed verification and promised anyway (through an agent), c9
    verified twice (its verification had expired) and promised.
    """
    async with container.sessions.begin() as session:
        b = Builder(session)
        b.n = 200
        a1, a2 = (await session.scalars(select(Account).order_by(Account.id).limit(2))).all()
        c7 = await b.conversation("web", a1, at(11, 20))
        await b.inbound(c7, at(11, 20, 9, 1), "ask_balance", 0.9)
        c8 = await b.conversation("web", a2, at(11, 21))
        await b.inbound(c8, at(11, 21, 9, 1), "promise_to_pay", 0.9)
        await b.identity(c8, at(11, 21, 9, 1), passed=False)
        c9 = await b.conversation("web", a1, at(11, 22))
        await b.inbound(c9, at(11, 22, 9, 1), "promise_to_pay", 0.9)
        await b.identity(c9, at(11, 22, 9, 1))
        await b.identity(c9, at(11, 23, 9, 1))
        # Another subject's event under c7's id is not c7's verification.
        await audit.record(session, occurred_at=at(11, 20, 9, 2), actor="bot",
                           action="identity.verified", subject_type="account",
                           subject_id=c7.id)
        # Subject ids are text and not always numbers: casting them must skip other subjects.
        await audit.record(session, occurred_at=at(11, 20, 9, 3), actor="telegram",
                           action="telegram.linked", subject_type="link_token",
                           subject_id="9f86d081884c7d659a2feaa0c55ad015")
        for conv, account in ((c8, a2), (c9, a1)):
            await b.add(Promise(account_id=account.id, amount=D("10.00"),
                                due_date=date(2026, 12, 1), status="pending",
                                conversation_id=conv.id, created_at=conv.started_at))


async def test_only_verified_conversations_are_right_party_contacts(
    container: Container, seeded: Seeded
) -> None:
    await add_portal_conversations(container)
    got = rates(await report(container, ReportFilter()))
    # c1, c2, c3, c6 and c9: not c7 (never verified) nor c8 (failed), though both wrote;
    # c4 is about no account.
    assert got["right_party_contact"] == (5, 8, D("0.6250"))
    # Promised among them: c1, c3, c6, c9 (c8's promise is outside the right party).
    assert got["promise_to_pay"] == (4, 5, D("0.8000"))


async def test_right_party_under_a_date_range_and_a_portfolio(
    container: Container, seeded: Seeded
) -> None:
    await add_portal_conversations(container)
    november = rates(await report(container, ReportFilter(start=date(2026, 11, 1))))
    assert november["right_party_contact"] == (4, 7, D("0.5714"))
    assert november["promise_to_pay"] == (3, 4, D("0.7500"))
    cards = rates(await report(container, ReportFilter(portfolio_id=seeded.cards)))
    # c1, c2, c7, c8, c9 are on Cards accounts; c1, c2 and c9 verified.
    assert cards["right_party_contact"] == (3, 5, D("0.6000"))
    assert cards["promise_to_pay"] == (2, 3, D("0.6667"))
