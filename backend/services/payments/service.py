"""Posting payments from every source (link, webhook, billing API) and confirming them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.db.models import Account
from backend.services import ledger
from backend.services.payments.receipts import confirm_receipt
from bot.clock import Clock
from bot.ports import Outbox
from bot.responses import Renderer
from bot.state import StateStore


@dataclass
class PaymentService:
    """Posts a payment in its own transaction, then sends the receipt."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    states: StateStore
    outbox: Outbox | None
    renderer: Renderer

    async def post(
        self, account_id: int, amount: Decimal, reference: str, *, source: str,
        method: str = "card", paid_at: datetime | None = None, actor: str = "payments",
    ) -> ledger.Posted | None:
        """Post once per (account, reference); None when the account does not exist."""
        now = self.clock.now()
        receipt = None
        async with self.sessions.begin() as session:
            account = await session.get(Account, account_id)
            if account is None:
                return None
            posted = await ledger.post_payment(
                session, account, amount, reference, ledger.Origin(now, actor),
                paid_at=paid_at, source=source, method=method)
            if posted.created and self.outbox is not None:
                receipt = await confirm_receipt(
                    session, account, posted.payment.amount, now, outbox=self.outbox,
                    states=self.states, renderer=self.renderer)
        if receipt is not None and self.outbox is not None:
            await self.outbox.send([receipt])
        return posted
