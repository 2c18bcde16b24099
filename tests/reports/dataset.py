"""A small, explicit dataset whose dashboard figures are computed by hand in the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import (
    Account,
    AgentUser,
    Conversation,
    Creditor,
    Debtor,
    Dispute,
    Handoff,
    IntentCorrection,
    Message,
    Payment,
    PaymentPlan,
    PlannedContact,
    Portfolio,
    Promise,
    Strategy,
    StrategyVersion,
)
from backend.services import audit

TODAY = date(2026, 11, 25)
CREATED = datetime(2026, 10, 1, tzinfo=UTC)
Row = TypeVar("Row")


def at(month: int, day: int, hour: int = 9, minute: int = 0, second: int = 0) -> datetime:
    """An instant in 2026, UTC."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


@dataclass
class Seeded:
    """Ids the tests filter by."""

    cards: int = 0
    loans: int = 0
    mobile: int = 0
    acme: int = 0
    beta: int = 0
    ana: int = 0
    ben: int = 0


class Builder:
    """Adds rows with their required columns filled in."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.n = 0

    async def add(self, row: Row) -> Row:
        self.session.add(row)
        await self.session.flush()
        return row

    async def account(
        self, portfolio: Portfolio, original: str, current: str, due: date, placed: datetime,
        status: str = "active", **flags: bool,
    ) -> Account:
        self.n += 1
        debtor = Debtor(full_name=f"Debtor {self.n}", timezone="America/New_York",
                        created_at=CREATED)
        await self.add(debtor)
        account = Account(
            creditor_id=portfolio.creditor_id, portfolio_id=portfolio.id, debtor_id=debtor.id,
            external_ref=f"A{self.n}", currency="USD", original_balance=Decimal(original),
            current_balance=Decimal(current), due_date=due, status=status, created_at=placed,
            updated_at=placed, **flags,
        )
        await self.add(account)
        return account

    async def payment(self, account: Account, amount: str, paid: datetime, method: str,
                      channel: str | None) -> None:
        self.n += 1
        await self.add(Payment(account_id=account.id, amount=Decimal(amount), currency="USD",
                               paid_at=paid, method=method, channel=channel,
                               reference=f"R{self.n}", created_at=paid))

    async def conversation(self, channel: str, account: Account | None,
                           started: datetime) -> Conversation:
        self.n += 1
        return await self.add(Conversation(
            channel=channel, address=f"+1555000{self.n:04d}",
            debtor_id=account.debtor_id if account else None,
            account_id=account.id if account else None, started_at=started,
            last_message_at=started,
        ))

    async def inbound(self, conv: Conversation, when: datetime, intent: str | None,
                      confidence: float | None) -> Message:
        return await self.add(Message(
            conversation_id=conv.id, direction="inbound", channel=conv.channel,
            sender="debtor", text="...", intent=intent, confidence=confidence,
            delivery_status="received", created_at=when,
        ))

    async def outbound(self, conv: Conversation, when: datetime, sender: str = "bot",
                       status: str = "delivered") -> Message:
        return await self.add(Message(conversation_id=conv.id, direction="outbound",
                                      channel=conv.channel, sender=sender, text="...",
                                      delivery_status=status, created_at=when))

    async def identity(self, conv: Conversation, when: datetime, passed: bool = True) -> None:
        """The audit event the identity dialog records when verification passes or fails."""
        await audit.record(self.session, occurred_at=when, actor="bot",
                           action="identity.verified" if passed else "identity.failed",
                           subject_type="conversation", subject_id=conv.id,
                           data={"detail": None})

    async def contact(self, version: StrategyVersion, account: Account, step: str,
                      variant: str | None, status: str = "sent",
                      message: Message | None = None) -> None:
        self.n += 1
        when = message.created_at if message else at(11, 1)
        await self.add(PlannedContact(
            key=f"K{self.n}", account_id=account.id, strategy_version_id=version.id,
            segment="standard", step=step, variant=variant, anchor="due_date",
            anchor_date=account.due_date, due_at=when, status=status, reason="ladder",
            channel=message.channel if message else None,
            message_id=message.id if message else None, created_at=when, updated_at=when,
            # As the workflow marks a send: the message's state and conversation go with it.
            delivery_status=message.delivery_status if message else None,
            conversation_id=message.conversation_id if message else None,
        ))

    async def handoff(self, conv: Conversation, queue: str, reason: str, created: datetime,
                      claimed: datetime | None = None, closed: datetime | None = None,
                      agent: AgentUser | None = None) -> None:
        await self.add(Handoff(conversation_id=conv.id, queue=queue, reason=reason,
                               created_at=created, claimed_at=claimed, closed_at=closed,
                               agent_id=agent.id if agent else None))


async def seed(session: AsyncSession) -> Seeded:
    """Two creditors, three portfolios, five accounts and everything hanging off them."""
    b = Builder(session)
    ids = Seeded()
    acme = await b.add(Creditor(name="Acme Bank", created_at=CREATED))
    beta = await b.add(Creditor(name="Beta Telco", created_at=CREATED))
    cards = await b.add(Portfolio(creditor_id=acme.id, name="Cards", created_at=CREATED))
    loans = await b.add(Portfolio(creditor_id=acme.id, name="Loans", created_at=CREATED))
    mobile = await b.add(Portfolio(creditor_id=beta.id, name="Mobile", created_at=CREATED))
    ana = await b.add(AgentUser(email="ana@x.test", name="Ana", password_hash="-",
                                created_at=CREATED))
    ben = await b.add(AgentUser(email="ben@x.test", name="Ben", password_hash="-",
                                created_at=CREATED))
    ids.acme, ids.beta, ids.ana, ids.ben = acme.id, beta.id, ana.id, ben.id
    ids.cards, ids.loans, ids.mobile = cards.id, loans.id, mobile.id

    # Accounts: DPD on 2026-11-25 is 24 (1-30), 85 (61-90), current, 208 (181+), 36 (31-60).
    a1 = await b.account(cards, "1000.00", "600.00", date(2026, 11, 1), at(11, 2))
    a2 = await b.account(cards, "500.00", "0.00", date(2026, 9, 1), at(11, 4), status="paid")
    a3 = await b.account(loans, "2000.00", "2000.00", date(2026, 12, 10), at(11, 10),
                         hardship=True)
    a4 = await b.account(mobile, "300.00", "250.00", date(2026, 5, 1), at(11, 16),
                         cease=True, dispute=True)
    a5 = await b.account(mobile, "99.99", "99.99", date(2026, 10, 20), at(10, 20), dispute=True)

    await b.payment(a1, "400.00", at(11, 5, 10), "card", "sms")
    await b.payment(a2, "200.00", at(11, 6), "card", "web")
    await b.payment(a2, "300.00", at(11, 12), "bank_transfer", "web")
    await b.payment(a4, "50.00", at(11, 20), "card", None)
    await b.payment(a5, "9.99", at(10, 25), "card", "whatsapp")

    c1 = await b.conversation("sms", a1, at(11, 3))
    first_reminder = await b.outbound(c1, at(11, 3))
    await b.inbound(c1, at(11, 3, 9, 5), "promise_to_pay", 0.92)
    await b.inbound(c1, at(11, 3, 9, 6), "promise_to_pay", 0.45)
    await b.identity(c1, at(11, 3, 9, 5))

    c2 = await b.conversation("whatsapp", a2, at(11, 4))
    complaint = await b.inbound(c2, at(11, 4, 9, 30), "complaint", 0.40)
    await b.identity(c2, at(11, 4, 9, 30))
    await b.inbound(c2, at(11, 4, 9, 31), "request_agent", 0.88)
    await b.handoff(c2, "complaints", "complaint", at(11, 4, 10), at(11, 4, 10, 4),
                    at(11, 4, 10, 30), ana)
    await b.outbound(c2, at(11, 4, 10, 5), f"agent:{ana.id}")
    await b.outbound(c2, at(11, 4, 10, 6), f"agent:{ana.id}")

    c3 = await b.conversation("sms", a3, at(11, 10))
    await b.inbound(c3, at(11, 10, 11), "hardship", 0.75)
    await b.identity(c3, at(11, 10, 11))
    await b.handoff(c3, "hardship", "hardship", at(11, 10, 12), at(11, 10, 12, 20), None, ben)
    await b.outbound(c3, at(11, 10, 12, 21), f"agent:{ben.id}")

    c4 = await b.conversation("sms", None, at(11, 12))
    await b.inbound(c4, at(11, 12, 8), "opt_out", 0.99)
    await b.handoff(c4, "unmatched", "unknown_sender", at(11, 12, 8))

    c5 = await b.conversation("telegram", a4, at(11, 16))
    telegram_reminder = await b.outbound(c5, at(11, 16))

    c6 = await b.conversation("sms", a5, at(10, 21))
    uninterpreted = await b.inbound(c6, at(10, 21, 8), None, None)
    await b.inbound(c6, at(10, 21, 8, 1), "dispute_debt", 0.30)
    await b.identity(c6, at(10, 21, 8), passed=False)
    await b.identity(c6, at(10, 21, 8, 1))
    await b.handoff(c6, "disputes", "dispute", at(10, 21, 9), at(10, 21, 9, 10),
                    at(10, 21, 10, 10), ana)
    await b.outbound(c6, at(10, 21, 9, 11), f"agent:{ana.id}")

    for row in (
        Promise(account_id=a1.id, amount=Decimal("400.00"), due_date=date(2026, 11, 5),
                status="kept", paid_amount=Decimal("400.00"), conversation_id=c1.id,
                created_at=at(11, 3)),
        Promise(account_id=a4.id, amount=Decimal("100.00"), due_date=date(2026, 11, 20),
                status="partially_kept", paid_amount=Decimal("50.00"), created_at=at(11, 17)),
        Promise(account_id=a5.id, amount=Decimal("99.99"), due_date=date(2026, 10, 25),
                status="broken", conversation_id=c6.id, created_at=at(10, 22)),
        Promise(account_id=a3.id, amount=Decimal("200.00"), due_date=date(2026, 12, 1),
                status="pending", conversation_id=c3.id, created_at=at(11, 10)),
        PaymentPlan(account_id=a3.id, total=Decimal("2000.00"), frequency="monthly",
                    status="active", created_at=at(11, 10)),
        PaymentPlan(account_id=a2.id, total=Decimal("500.00"), frequency="weekly",
                    status="completed", created_at=at(11, 4)),
        PaymentPlan(account_id=a4.id, total=Decimal("200.00"), frequency="weekly",
                    status="broken", is_settlement=True, created_at=at(11, 17)),
        PaymentPlan(account_id=a5.id, total=Decimal("80.00"), frequency="monthly",
                    status="active", is_settlement=True, created_at=at(10, 22)),
        Dispute(account_id=a5.id, reason="not mine", status="open", opened_at=at(10, 21)),
        Dispute(account_id=a4.id, reason="wrong amount", status="resolved",
                opened_at=at(11, 16), resolved_at=at(11, 18)),
        IntentCorrection(message_id=complaint.id, original_intent="complaint",
                         original_confidence=0.40, corrected_intent="dispute_debt",
                         agent_id=ana.id, created_at=at(11, 4, 11)),
        IntentCorrection(message_id=uninterpreted.id, original_intent=None,
                         corrected_intent="hardship", agent_id=ana.id,
                         created_at=at(10, 22)),
    ):
        await b.add(row)
    await _strategy_sends(b, (a1, a2, a3, a4, a5), (c1, c2, c3, c6),
                          (first_reminder, telegram_reminder))
    return ids


async def _strategy_sends(b: Builder, accounts: tuple[Account, ...],
                          convs: tuple[Conversation, ...], reused: tuple[Message, Message]
                          ) -> None:
    """Workflow sends; the strategy test explains what each one is credited with."""
    a1, a2, a3, a4, a5 = accounts
    c1, c2, c3, c6 = convs
    strategy = await b.add(Strategy(name="default", created_at=CREATED, updated_at=CREATED))
    version = await b.add(StrategyVersion(strategy_id=strategy.id, version=1, definition={},
                                          created_at=CREATED))
    await b.contact(version, a1, "d+1", "plain", message=reused[0])                  # P1
    await b.contact(version, a1, "promise-reminder", None,                           # P2
                    message=await b.outbound(c1, at(11, 4, 12), "workflow", "sent"))
    await b.contact(version, a2, "d+1", "helpful",                                   # P3
                    message=await b.outbound(c2, at(11, 4), "workflow", "read"))
    await b.contact(version, a3, "d-3", None,                                        # P4
                    message=await b.outbound(c3, at(11, 10, 8), "workflow"))
    await b.contact(version, a4, "d+1", "plain", message=reused[1])                  # P5
    await b.contact(version, a5, "d+1", "helpful",                                   # P6
                    message=await b.outbound(c6, at(10, 20, 12), "workflow", "failed"))
    await b.contact(version, a3, "d+1", "plain", status="blocked")
    await b.contact(version, a2, "d+15", None, status="planned")


async def add_euro_account(session: AsyncSession, seeded: Seeded) -> None:
    """One more Cards account placed in November, in EUR (500 placed, 100 paid)."""
    b = Builder(session)
    b.n = 100
    cards = await session.get(Portfolio, seeded.cards)
    assert cards is not None
    euro = await b.account(cards, "500.00", "400.00", date(2026, 10, 1), at(11, 10))
    euro.currency = "EUR"
    await b.payment(euro, "100.00", at(11, 12), "card", "sms")
