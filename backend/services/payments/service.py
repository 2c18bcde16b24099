"""Posting payments from every source (link, webhook, billing API) and confirming them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.db.models import Account, Payment
from backend.services import audit, ledger
from backend.services.payments.base import CurrencyMismatch, NothingPaid, PaymentEvent
from backend.services.payments.receipts import confirm_receipt, record_disclosure
from backend.services.portal import PortalLinks
from bot.clock import Clock
from bot.ports import Outbox
from bot.responses import Renderer
from bot.state import StateStore

log = logging.getLogger(__name__)


@dataclass
class PaymentService:
    """Posts a payment in its own transaction, then sends the receipt."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    states: StateStore
    outbox: Outbox | None
    renderer: Renderer
    # Where an unverified debtor's receipt sends them for the details (else it says reply).
    portal_links: PortalLinks | None = None

    async def post(
        self, account_id: int, amount: Decimal, reference: str, *, source: str,
        method: str = "card", paid_at: datetime | None = None, actor: str = "payments",
        currency: str | None = None, channel: str | None = None, alias: str | None = None,
    ) -> ledger.Posted | None:
        """Post once per (account, reference); None when the account does not exist.

        `alias` is another reference of the same payment (a provider payment's billing
        reference): whichever of the two arrives first is posted, the other finds it.

        `channel` is the conversation channel the payment came through (a link sent there).

        A `currency` other than the account's raises CurrencyMismatch once the refusal is in
        the audit log: the ledger would record 100 EUR as 100 of the account's currency. An
        amount of zero or less (a provider's $0 checkout) raises NothingPaid the same way.
        """
        now = self.clock.now()
        receipt = None
        async with self.sessions.begin() as session:
            account = await session.get(Account, account_id)
            if account is None:
                return None
            held_in = account.currency
            if amount <= 0:
                await _refuse_nothing_paid(session, account, amount, reference, source, actor,
                                           now)
            elif currency is not None and currency != held_in:
                await _refuse(session, account, amount, reference, currency, actor, now)
            else:
                posted = await ledger.post_payment(
                    session, account, amount, reference,
                    ledger.Origin(now, actor, channel=channel),
                    paid_at=paid_at, source=source, method=method, alias=alias)
                if posted.created and self.outbox is not None:
                    receipt = await confirm_receipt(
                        session, account, posted.payment.amount, now, outbox=self.outbox,
                        states=self.states, renderer=self.renderer,
                        portal_links=self.portal_links)
        if amount <= 0:
            raise NothingPaid(f"{reference}: {amount} is not a payment")
        if currency is not None and currency != held_in:
            raise CurrencyMismatch(f"{reference}: {currency} paid on an account in {held_in}")
        if receipt is not None and self.outbox is not None:
            try:
                await record_disclosure(self.states, receipt)
            finally:  # the receipt is committed: it goes even when the state could not be kept
                await self.outbox.send([receipt.message_id])
        return posted

    async def unmatched(self, event: PaymentEvent) -> None:
        """Record a provider's payment naming no account here, for a person to reconcile: it
        is never posted, and the provider retrying cannot make the account exist."""
        log.warning("payment %s from %s refused: it names no account here", event.reference,
                    event.provider)
        async with self.sessions.begin() as session:
            await audit.record(
                session, occurred_at=self.clock.now(), actor=event.provider,
                action="payment.unmatched", subject_type="payment", subject_id=event.reference,
                data={"provider": event.provider, "reference": event.reference,
                      "alias": event.alias, "account": event.account_ref,
                      "amount": str(event.amount), "currency": event.currency})

    async def refund(self, reference: str, refunded: Decimal, *, source: str,
                     account_id: int | None = None, actor: str = "payments") -> Decimal | None:
        """Reverse a refund of the payment posted from `source` under `reference`; `refunded`
        is the provider's total so far. None when no such payment was posted (ignored)."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            found = await self._refunded_payment(session, reference, source, account_id)
            if found is None:
                return None
            account, payment = found
            return await ledger.refund_payment(session, account, payment, refunded,
                                               ledger.Origin(now, actor))

    async def refund_failed(self, reference: str, amount: Decimal, refund_id: str, *,
                            source: str, actor: str = "payments") -> Decimal | None:
        """Apply again what a refund that failed (`amount`, the provider's `refund_id`) had
        reversed of the payment under `reference`. None when no such payment was posted."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            found = await self._refunded_payment(session, reference, source, None)
            if found is None:
                return None
            account, payment = found
            return await ledger.refund_failed(session, account, payment, amount, refund_id,
                                              ledger.Origin(now, actor))

    async def _refunded_payment(self, session: AsyncSession, reference: str, source: str,
                                account_id: int | None) -> tuple[Account, Payment] | None:
        payment = await _posted(session, reference, source, account_id)
        if payment is None:
            log.warning("refund from %s of a payment never posted (%s): ignored",
                        source, reference)
            return None
        account = await session.get(Account, payment.account_id)
        assert account is not None  # a payment's account is never deleted
        return account, payment


async def _posted(session: AsyncSession, reference: str, source: str,
                  account_id: int | None) -> Payment | None:
    """The payment a provider refunds: its reference is the provider's own, unique there; or,
    when a billing system posted it first, the alias the provider's delivery gave it."""
    query = select(Payment).where(or_(
        and_(Payment.reference == reference, Payment.source == source),
        Payment.alias == reference))
    if account_id is not None:
        query = query.where(Payment.account_id == account_id)
    found: Payment | None = (await session.scalars(query.order_by(Payment.id).limit(1))).first()
    return found


async def _refuse(session: AsyncSession, account: Account, amount: Decimal, reference: str,
                  currency: str, actor: str, now: datetime) -> None:
    """Record money received in another currency, for a person to reconcile."""
    log.warning("payment %s for account %s refused: in %s, the account is in %s",
                reference, account.id, currency, account.currency)
    await audit.record(
        session, occurred_at=now, actor=actor, action="payment.currency_mismatch",
        subject_type="account", subject_id=account.id,
        data={"reference": reference, "amount": str(amount), "currency": currency,
              "account_currency": account.currency})


async def _refuse_nothing_paid(session: AsyncSession, account: Account, amount: Decimal,
                               reference: str, source: str, actor: str, now: datetime) -> None:
    """Record a payment of zero or less, never posted: no money moved, so no receipt either."""
    log.warning("payment %s for account %s refused: not a positive amount", reference,
                account.id)
    await audit.record(
        session, occurred_at=now, actor=actor, action="payment.refused",
        subject_type="account", subject_id=account.id,
        data={"reference": reference, "amount": str(amount), "source": source,
              "reason": "not a positive amount"})
