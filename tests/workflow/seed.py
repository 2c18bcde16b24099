"""Small builders for workflow tests: one debtor in New York with an SMS number, one account."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from itertools import count

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.container import Container
from backend.db.models import (
    Account,
    ContactPoint,
    Creditor,
    Debtor,
    Message,
    PlannedContact,
    Portfolio,
)
from backend.workflow import store
from backend.workflow.strategy import DEFAULT_STRATEGY_PATH, StrategyDefinition, load_strategy_file

_numbers = count(100)


async def portfolio(session: AsyncSession, now: datetime, name: str = "Cards") -> Portfolio:
    """A creditor with one portfolio."""
    creditor = Creditor(name=f"Acme {name}", created_at=now)
    session.add(creditor)
    await session.flush()
    folio = Portfolio(creditor_id=creditor.id, name=name, created_at=now)
    session.add(folio)
    await session.flush()
    return folio


async def account(
    session: AsyncSession, folio: Portfolio, now: datetime, due: date, *,
    balance: str = "500.00", language: str = "en", zone: str = "America/New_York",
) -> Account:
    """A debtor in New York (212 number, consented SMS) owing `balance` due on `due`."""
    n = next(_numbers)
    debtor = Debtor(full_name=f"Debtor {n}", region="NY", timezone=zone,
                    preferred_language=language, created_at=now)
    session.add(debtor)
    await session.flush()
    session.add(ContactPoint(debtor_id=debtor.id, channel="sms", address=f"+1212555{n:04d}",
                             consent=True, created_at=now))
    row = Account(creditor_id=folio.creditor_id, portfolio_id=folio.id, debtor_id=debtor.id,
                  external_ref=f"R{n}", currency="USD", original_balance=Decimal(balance),
                  current_balance=Decimal(balance), due_date=due, created_at=now,
                  updated_at=now)
    session.add(row)
    await session.flush()
    return row


async def activate(session: AsyncSession, now: datetime,
                   definition: StrategyDefinition | None = None) -> store.LoadedVersion:
    """Store and switch on a strategy (the default one unless given)."""
    definition = definition or load_strategy_file(DEFAULT_STRATEGY_PATH)
    loaded = await store.save_version(session, definition, source="", actor="test", now=now)
    await store.activate(session, loaded.strategy_id, loaded.version, actor="test", now=now)
    return loaded


async def activated_account(container: Container, now: datetime, due: date) -> Account:
    """One account in its own portfolio, due on `due`, under the default strategy (active)."""
    async with container.sessions.begin() as session:
        acct = await account(session, await portfolio(session, now), now, due)
        await activate(session, now)
    return acct


async def contacts(session: AsyncSession, account_id: int) -> list[PlannedContact]:
    """An account's planned contacts, oldest first."""
    rows = await session.scalars(select(PlannedContact).where(
        PlannedContact.account_id == account_id).order_by(PlannedContact.id))
    return list(rows.all())


async def outbound_count(session: AsyncSession) -> int:
    """Outbound messages stored."""
    return int(await session.scalar(select(func.count(Message.id)).where(
        Message.direction == "outbound")) or 0)
