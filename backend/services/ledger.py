"""The ledger's writes: promises, plans, settlements, disputes, stop-states, and posted payments."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from backend.db.models import (
    Account,
    AuditEvent,
    ContactPoint,
    Debtor,
    Dispute,
    Installment,
    Payment,
    PaymentPlan,
    Promise,
)
from backend.db.models.enums import (
    AccountStatus,
    InstallmentStatus,
    PlanStatus,
    PromiseStatus,
)
from backend.services import audit
from backend.services.geo import debtor_today
from backend.services.row_locks import hold_account
from bot.facts import CENT, Offer

STOP_FLAGS = frozenset({"attorney", "bankruptcy", "deceased", "cease", "dispute", "hardship"})
# Stop-states that end collection (Account.collection_stopped): a bankruptcy stays every act
# to collect, an attorney or a cease stops contact about the debt (compliance.md).
ENDS_ARRANGEMENTS = frozenset({"attorney", "bankruptcy", "deceased", "cease"})

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """Where a record came from: the channel and conversation, who did it, when."""

    now: datetime
    actor: str = "bot"
    channel: str | None = None
    conversation_id: int | None = None


async def _audit(session: AsyncSession, origin: Origin, action: str, account: Account,
                 **data: object) -> None:
    await audit.record(session, occurred_at=origin.now, actor=origin.actor, action=action,
                       subject_type="account", subject_id=account.id,
                       data={"conversation_id": origin.conversation_id, **data})


async def record_promise(
    session: AsyncSession, account: Account, amount: Decimal, due: date, origin: Origin,
    kind: str = "promise",
) -> Promise:
    """A promise to pay (an extension is a promise of the balance)."""
    promise = Promise(account_id=account.id, amount=amount.quantize(CENT), due_date=due,
                      status=PromiseStatus.PENDING, channel=origin.channel,
                      conversation_id=origin.conversation_id, created_at=origin.now)
    session.add(promise)
    await session.flush()
    await _audit(session, origin, f"{kind}.recorded", account, promise_id=promise.id,
                 amount=str(promise.amount), due=due.isoformat())
    return promise


async def record_plan(session: AsyncSession, account: Account, offer: Offer,
                      origin: Origin) -> PaymentPlan:
    """A plan (or settlement) with its schedule; it supersedes the account's active plans and
    pending promises (cancelled, each plan with its own audit event), so one payment is never
    counted toward both."""
    replaced = list(await session.scalars(select(PaymentPlan).where(
        PaymentPlan.account_id == account.id, PaymentPlan.status == PlanStatus.ACTIVE)
        .order_by(PaymentPlan.id)))
    for old in replaced:
        old.status = PlanStatus.CANCELLED
    superseded = list(await session.scalars(select(Promise).where(
        Promise.account_id == account.id, Promise.status == PromiseStatus.PENDING)))
    for promise in superseded:
        promise.status = PromiseStatus.CANCELLED
    # In what the column holds (cents): the audit says what was stored, "1020.00", not the
    # form's "1020".
    pairs = [(i.due, i.amount.quantize(CENT)) for i in offer.schedule] \
        or [(offer.first_due, offer.total.quantize(CENT))]
    plan = PaymentPlan(
        account_id=account.id, total=offer.total.quantize(CENT),
        frequency=offer.frequency or "once",
        down_payment=Decimal("0.00"), is_settlement=offer.kind == "settlement",
        status=PlanStatus.ACTIVE, channel=origin.channel,
        conversation_id=origin.conversation_id, created_at=origin.now,
        installments=[
            Installment(seq=n, due_date=due, amount=amount)
            for n, (due, amount) in enumerate(pairs, start=1)
        ],
    )
    session.add(plan)
    await session.flush()
    for old in replaced:
        await _audit_replaced(session, origin, account, old, plan)
    await _audit(session, origin, f"{offer.kind}.recorded", account, plan_id=plan.id,
                 total=str(plan.total), installments=len(plan.installments),
                 superseded_plans=[p.id for p in replaced],
                 superseded_promises=[p.id for p in superseded])
    return plan


async def _audit_replaced(session: AsyncSession, origin: Origin, account: Account,
                          old: PaymentPlan, new: PaymentPlan) -> None:
    """A `plan.cancelled` (or `settlement.cancelled`) event for a plan a new one replaced, by
    whoever recorded the new one: the trail shows what ended it, as `plan.broken` does."""
    kind = "settlement" if old.is_settlement else "plan"
    await _audit(session, origin, f"{kind}.cancelled", account, plan_id=old.id,
                 reason="replaced", replaced_by=new.id, channel=origin.channel,
                 total=str(old.total))


async def record_dispute(session: AsyncSession, account: Account, reason: str,
                         origin: Origin) -> Dispute:
    """Open a dispute in the debtor's words and pause collection."""
    dispute = Dispute(account_id=account.id, reason=reason, conversation_id=origin.conversation_id,
                      opened_at=origin.now)
    session.add(dispute)
    account.dispute = True
    account.updated_at = origin.now
    await session.flush()
    await _audit(session, origin, "dispute.opened", account, dispute_id=dispute.id)
    return dispute


async def set_stop_state(session: AsyncSession, account: Account, state: str, details: str,
                         origin: Origin) -> None:
    """Raise a stop flag with what the debtor told us; only a person clears it."""
    if state not in STOP_FLAGS:
        raise ValueError(f"unknown stop-state {state!r}")
    setattr(account, state, True)
    note = f"{origin.now.date().isoformat()} {state}: {details}"
    account.stop_details = "\n".join(filter(None, [account.stop_details, note]))[-2000:]
    account.updated_at = origin.now
    await _audit(session, origin, "stop_state.set", account, state=state)
    await end_arrangements(session, account, state, origin)


@dataclass(frozen=True)
class Ended:
    """The plans (settlements among them) and promises a stop-state cancelled."""

    plans: tuple[int, ...] = ()
    promises: tuple[int, ...] = ()


async def end_arrangements(session: AsyncSession, account: Account, state: str,
                           origin: Origin) -> Ended:
    """Cancel the account's active plans and pending promises when `state` ends collection,
    each audited with the stop-state as its reason, so pages, reports and the lifecycle job
    stop treating them as live. Clearing the stop-state later revives none: a person offers
    again. Other states (dispute, hardship) only pause them."""
    if state not in ENDS_ARRANGEMENTS:
        return Ended()
    plans = list(await session.scalars(select(PaymentPlan).where(
        PaymentPlan.account_id == account.id, PaymentPlan.status == PlanStatus.ACTIVE)
        .order_by(PaymentPlan.id)))
    promises = list(await session.scalars(select(Promise).where(
        Promise.account_id == account.id, Promise.status == PromiseStatus.PENDING)
        .order_by(Promise.id)))
    for plan in plans:
        plan.status = PlanStatus.CANCELLED
        await _audit(session, origin, f"{'settlement' if plan.is_settlement else 'plan'}"
                     ".cancelled", account, plan_id=plan.id, reason="stop_state",
                     state=state, total=str(plan.total))
    for promise in promises:
        promise.status = PromiseStatus.CANCELLED
        await _audit(session, origin, "promise.cancelled", account, promise_id=promise.id,
                     reason="stop_state", state=state, amount=str(promise.amount),
                     due=promise.due_date.isoformat())
    return Ended(tuple(p.id for p in plans), tuple(p.id for p in promises))


async def mark_wrong_party(session: AsyncSession, channel: str, address: str,
                           origin: Origin) -> int:
    """Suppress an address that is not the debtor's, for every debtor holding it."""
    rows = (await session.scalars(select(ContactPoint).where(
        ContactPoint.channel == channel, ContactPoint.address == address))).all()
    for row in rows:
        row.wrong_party = True
    await audit.record(session, occurred_at=origin.now, actor=origin.actor,
                       action="contact.wrong_party", subject_type="conversation",
                       subject_id=origin.conversation_id, data={"channel": channel})
    return len(rows)


async def opt_out_everywhere(session: AsyncSession, debtor_id: int, reason: str,
                             origin: Origin, channels: tuple[str, ...] | None = None) -> int:
    """Opt every address of a debtor out (\"stop contacting me at all\"), or every address
    on `channels` (\"stop texting me\" written somewhere else)."""
    query = select(ContactPoint).where(ContactPoint.debtor_id == debtor_id,
                                       ContactPoint.opted_out_at.is_(None))
    if channels is not None:
        query = query.where(ContactPoint.channel.in_(channels))
    rows = (await session.scalars(query)).all()
    for row in rows:
        row.opted_out_at, row.opt_out_reason = origin.now, reason[:200]
    action = "contact.opted_out_all" if channels is None else "contact.opted_out_channels"
    data: dict[str, Any] = {"reason": reason, "count": len(rows)}
    if channels is not None:
        data["channels"] = list(channels)
    await audit.record(session, occurred_at=origin.now, actor=origin.actor, action=action,
                       subject_type="debtor", subject_id=debtor_id, data=data)
    return len(rows)


@dataclass(frozen=True)
class Posted:
    """The outcome of posting a payment."""

    payment: Payment
    created: bool
    applied_to: str | None = None  # "plan", "promise" or None
    # More than was owed (the balance, or what was left of an active settlement): for a person
    # to give back unless the debtor meant to pay it.
    overpaid: Decimal = Decimal("0.00")


async def post_payment(
    session: AsyncSession, account: Account, amount: Decimal, reference: str, origin: Origin,
    *, paid_at: datetime | None = None, source: str = "api", method: str = "card",
    alias: str | None = None,
) -> Posted:
    """Record money received (idempotent by reference, or by `alias`, another reference the
    same payment is known by) and apply it to the account."""
    # Held until commit: the lifecycle job holds it too, so a plan or promise is judged either
    # before this payment or after it, never from a snapshot the payment is changing.
    await _hold_fresh(session, account)
    amount = amount.quantize(CENT)
    if amount <= 0:
        # Callers refuse (and audit) money that did not move; none is ever posted, whatever
        # path it comes by.
        raise ValueError(f"payment {reference!r}: {amount} is not a positive amount")
    existing = await _known(session, account.id, reference, alias, amount)
    if existing is not None:
        return await _as_first_posted(session, account.id, existing)
    # An alias another payment already holds (or one naming a payment of another amount) is
    # not this payment's: it is posted on its own key, never dropped.
    free_alias = alias if alias != reference and await _alias_free(
        session, account.id, alias) else None
    payment = Payment(account_id=account.id, amount=amount,
                      currency=account.currency, paid_at=paid_at or origin.now, method=method,
                      channel=origin.channel, source=source, reference=reference,
                      alias=free_alias, created_at=origin.now)
    try:
        async with session.begin_nested():
            session.add(payment)
            await session.flush()
    except IntegrityError:
        # Another delivery of the same payment (a webhook retry) won the race.
        again = await _known(session, account.id, reference, alias, amount)
        if again is None:
            raise
        return await _as_first_posted(session, account.id, again)
    plan = await _active_plan(session, account.id)
    owed = _owed(account, plan)
    overpaid = max(Decimal("0.00"), payment.amount - owed)
    before = account.current_balance
    applied = await _apply(session, account, plan, payment, origin)
    # What the balance fell by beyond the money that counted: a settlement's discount.
    written_off = before - account.current_balance - (payment.amount - overpaid)
    alias_taken = alias if alias and alias != reference and free_alias is None else None
    await _audit(session, origin, "payment.posted", account, payment_id=payment.id,
                 amount=str(payment.amount), source=source, applied_to=applied,
                 plan_id=plan.id if applied == "plan" and plan is not None else None,
                 owed=str(owed), overpaid=str(overpaid), written_off=str(written_off),
                 **({"alias_not_joined": alias_taken} if alias_taken else {}))
    if alias_taken:
        log.warning("payment %s on account %s names a reference another payment holds; "
                    "posted as a payment of its own", payment.id, account.id)
    if overpaid:
        log.warning("payment %s on account %s exceeds what was owed; the excess is owed back",
                    payment.id, account.id)
    return Posted(payment, True, applied, overpaid)


async def _hold_fresh(session: AsyncSession, account: Account) -> None:
    """Hold the account until commit and read its money again: the balance as of now, not as
    of before another payment's commit."""
    await session.flush()
    await hold_account(session, account.id)
    # Only these: a refresh expires lazy relationships, which async code cannot load later.
    await session.refresh(account, ["current_balance", "status", "updated_at"])


async def _known(session: AsyncSession, account_id: int, reference: str,
                 alias: str | None, amount: Decimal) -> Payment | None:
    """The payment posted under `reference` (its own key, or the alias it learned); else the
    one `alias` names, when that is this same payment: the same amount, not yet joined to
    another key. One found by one key learns the other, so a refund keyed on either finds it."""
    payment = await _by_key(session, account_id, reference)
    if payment is not None:
        if payment.alias is None and alias and alias != payment.reference and await _alias_free(
                session, account_id, alias):
            payment.alias = alias
        return payment
    if not alias or alias == reference:
        return None
    named = await _by_key(session, account_id, alias)
    # A billing system's payment (its reference is the alias) the provider has not reported
    # yet; one already joined to another provider key, or of another amount, is another payment.
    if named is None or named.reference != alias or named.alias is not None \
            or named.amount != amount:
        return None
    named.alias = reference
    return named


async def _by_key(session: AsyncSession, account_id: int, key: str) -> Payment | None:
    """The payment whose reference, or else whose alias, is `key`."""
    found = (await session.scalars(select(Payment).where(
        Payment.account_id == account_id, or_(Payment.reference == key, Payment.alias == key))
        .order_by(Payment.id))).all()
    by_reference = [p for p in found if p.reference == key]
    candidates = by_reference or list(found)
    return candidates[0] if candidates else None


async def _alias_free(session: AsyncSession, account_id: int, alias: str | None) -> bool:
    """Whether no payment of the account is known by `alias` yet."""
    return bool(alias) and await _by_key(session, account_id, alias or "") is None


async def _as_first_posted(session: AsyncSession, account_id: int, payment: Payment) -> Posted:
    """A payment posted before, answered as its posting was (from its `payment.posted` event):
    a retry whose first answer was lost learns the same."""
    posting = await _posting(session, account_id, payment.id)
    return Posted(payment, False, posting.applied_to, posting.overpaid)


async def _active_plan(session: AsyncSession, account_id: int) -> PaymentPlan | None:
    plan: PaymentPlan | None = await session.scalar(
        select(PaymentPlan).where(PaymentPlan.account_id == account_id,
                                  PaymentPlan.status == PlanStatus.ACTIVE)
        .options(selectinload(PaymentPlan.installments)).order_by(PaymentPlan.id.desc()).limit(1)
        .execution_options(populate_existing=True))
    return plan


def _owed(account: Account, plan: PaymentPlan | None) -> Decimal:
    """What closes the debt now: the balance, or what is left of an active settlement."""
    if plan is None or not plan.is_settlement:
        return account.current_balance
    left = sum((i.amount - i.paid_amount for i in plan.installments), Decimal("0.00"))
    return min(left, account.current_balance)


async def _apply(session: AsyncSession, account: Account, plan: PaymentPlan | None,
                 payment: Payment, origin: Origin) -> str | None:
    amount = payment.amount
    account.current_balance = max(Decimal("0.00"), account.current_balance - amount)
    account.updated_at = origin.now
    applied = None
    if plan is not None:
        _apply_to_plan(plan, amount)
        applied = "plan"
        if (plan.status == PlanStatus.COMPLETED and plan.is_settlement
                and account.current_balance > 0):
            # Settled only when the discount is written off; payments that covered the whole
            # balance leave the account paid.
            account.current_balance = Decimal("0.00")
            account.status = AccountStatus.SETTLED
    elif await _apply_to_promises(session, account, payment.paid_at, amount, origin):
        applied = "promise"
    if account.current_balance == 0 and account.status == AccountStatus.ACTIVE:
        account.status = AccountStatus.PAID
    return applied


def _apply_to_plan(plan: PaymentPlan, amount: Decimal) -> None:
    left = amount
    for item in plan.installments:
        if left <= 0 or item.status == InstallmentStatus.PAID:
            continue
        paid = min(left, item.amount - item.paid_amount)
        item.paid_amount += paid
        left -= paid
        item.status = (InstallmentStatus.PAID if item.paid_amount >= item.amount
                       else InstallmentStatus.PARTIAL)
    if all(i.status == InstallmentStatus.PAID for i in plan.installments):
        plan.status = PlanStatus.COMPLETED


async def _apply_to_promises(session: AsyncSession, account: Account, paid_at: datetime,
                             amount: Decimal, origin: Origin) -> bool:
    """Credit the promises the payment counts toward, in due order: those whose judging day
    (due date plus the grace days, in the debtor's calendar) it was paid by, whenever posted.
    A verdict already given is corrected by such a payment (audited); a payment paid after
    the judging day changes none."""
    promises = await _promises_paid_in_time(session, account, paid_at)
    left = amount
    for promise in promises:
        if left <= 0:
            break
        paid = min(left, promise.amount - promise.paid_amount)
        promise.paid_amount += paid
        left -= paid
        judged = promise.status != PromiseStatus.PENDING
        if promise.paid_amount >= promise.amount:
            promise.status = PromiseStatus.KEPT
        elif judged:
            promise.status = PromiseStatus.PARTIALLY_KEPT
        # A pending promise short of its amount stays pending: before its judging day a part
        # payment is no verdict; the lifecycle job judges it partially kept or broken after.
        if judged:
            await _audit(session, origin, f"promise.{promise.status}", account,
                         promise_id=promise.id, amount=str(promise.amount),
                         paid=str(promise.paid_amount), due=promise.due_date.isoformat(),
                         paid_at=paid_at.isoformat(), corrected=True)
    return bool(promises)


async def _promises_paid_in_time(session: AsyncSession, account: Account,
                                 paid_at: datetime) -> list[Promise]:
    """The account's uncancelled, not yet kept promises whose judging day is `paid_at`'s day
    (the debtor's) or later, in the ledger's order (due date, then id)."""
    # Imported here: the workflow package imports the services, not the other way round.
    from backend.workflow.lifecycle import lifecycle_rules

    grace = timedelta(days=(await lifecycle_rules(session)).promise_grace_days)
    zone = await session.scalar(select(Debtor.timezone).where(Debtor.id == account.debtor_id))
    paid_on = debtor_today(paid_at, zone)
    rows = await session.scalars(select(Promise).where(
        Promise.account_id == account.id, Promise.due_date >= paid_on - grace,
        Promise.status.in_((PromiseStatus.PENDING, PromiseStatus.PARTIALLY_KEPT,
                            PromiseStatus.BROKEN)))
        .order_by(Promise.due_date, Promise.id))
    return list(rows.all())


@dataclass(frozen=True)
class _Posting:
    """How the ledger applied a payment, as its `payment.posted` audit event says."""

    applied_to: str | None = None
    plan_id: int | None = None
    overpaid: Decimal = Decimal("0.00")
    written_off: Decimal = Decimal("0.00")

    def owed_back(self, refunded: Decimal) -> tuple[Decimal, Decimal]:
        """What a refund of `refunded` in all puts back on the balance: the money that had
        counted (the overpaid excess is given back first and was never owed), and the
        settlement discount, written off again only while that money stands."""
        counted = max(Decimal("0.00"), refunded - self.overpaid)
        return counted, self.written_off if counted > 0 else Decimal("0.00")


async def refund_payment(session: AsyncSession, account: Account, payment: Payment,
                         refunded: Decimal, origin: Origin) -> Decimal:
    """Reverse what the provider has given back of a posted payment; `refunded` is the total
    so far, so a repeated or late delivery reverses nothing twice. Returns what was newly
    given back.

    The same whatever order the refund events come in: a total delivered again after a
    refund failed is not a new refund, and a failure that arrived before the total holding
    its refund is taken out of that total (each failure once).
    """
    await _hold_fresh(session, account)
    await session.refresh(payment)
    history = await _refund_history(session, account.id, payment.id)
    reported = min(refunded.quantize(CENT), payment.amount)
    if reported in history.totals_seen:
        return Decimal("0.00")
    # A total holds a failed refund only if it is at least as much.
    unmatched = history.unmatched_failures
    deducted = unmatched if reported >= unmatched else Decimal("0.00")
    total = max(reported - deducted, payment.refunded_amount)
    given_back = total - payment.refunded_amount
    posting = await _posting(session, account.id, payment.id)
    counted_before, discount_before = posting.owed_back(payment.refunded_amount)
    counted, discount = posting.owed_back(total)
    payment.refunded_amount = total
    raised = counted - counted_before + discount - discount_before
    if raised > 0:
        account.current_balance += raised
        account.updated_at = origin.now
        if account.status in (AccountStatus.PAID, AccountStatus.SETTLED):
            account.status = AccountStatus.ACTIVE
    reopened = [] if counted == counted_before else await _unapply(
        session, account.id, payment, posting.applied_to, posting.plan_id,
        counted - counted_before)
    # Recorded even when it reverses nothing: the total is known from now on.
    await _audit(session, origin, "payment.refunded", account, payment_id=payment.id,
                 reversed=str(raised), refunded=str(total),
                 overpaid_returned=str(given_back - (counted - counted_before)),
                 write_off_reversed=str(discount - discount_before), reopened=reopened,
                 provider_total=str(reported), failed_deducted=str(deducted))
    return given_back


async def refund_failed(session: AsyncSession, account: Account, payment: Payment,
                        amount: Decimal, refund_id: str, origin: Origin) -> Decimal:
    """A refund that failed: its money came back to the creditor, so what its refund reversed
    is applied again (once per refund id). Returns what was applied again. A failure that
    arrives before its refund restores nothing now, and is remembered: `refund_payment` never
    counts it."""
    await _hold_fresh(session, account)
    await session.refresh(payment)
    history = await _refund_history(session, account.id, payment.id)
    if refund_id in history.failed:  # a repeated delivery
        return Decimal("0.00")
    # Only a total at least as much as this refund can have held it: else its total is yet
    # to come, and `refund_payment` takes this failure out of it then.
    holds_it = history.highest_total >= amount.quantize(CENT)
    restored = min(amount.quantize(CENT), payment.refunded_amount) if holds_it \
        else Decimal("0.00")
    posting = await _posting(session, account.id, payment.id)
    counted_before, _ = posting.owed_back(payment.refunded_amount)
    counted, _ = posting.owed_back(payment.refunded_amount - restored)
    payment.refunded_amount -= restored
    applied = counted_before - counted
    written_off = Decimal("0.00")
    if applied > 0:
        account.current_balance = max(Decimal("0.00"), account.current_balance - applied)
        account.updated_at = origin.now
        written_off = await _reapply(session, account, payment, posting, applied, origin)
        if account.current_balance == 0 and account.status == AccountStatus.ACTIVE:
            account.status = AccountStatus.SETTLED if written_off else AccountStatus.PAID
    await _audit(session, origin, "payment.refund_failed", account, payment_id=payment.id,
                 refund_id=refund_id, amount=str(amount.quantize(CENT)),
                 restored=str(restored), reapplied=str(applied),
                 written_off=str(written_off), refunded=str(payment.refunded_amount))
    return restored


async def _posting(session: AsyncSession, account_id: int, payment_id: int) -> _Posting:
    events = await session.scalars(select(AuditEvent.data).where(
        AuditEvent.action == "payment.posted", AuditEvent.subject_type == "account",
        AuditEvent.subject_id == str(account_id)))
    for data in events:
        if data.get("payment_id") == payment_id:
            return _Posting(data.get("applied_to"), data.get("plan_id"),
                            Decimal(data.get("overpaid") or "0.00"),
                            Decimal(data.get("written_off") or "0.00"))
    return _Posting()


@dataclass(frozen=True)
class _RefundHistory:
    """What the ledger has heard of a payment's refunds, from its audit events."""

    totals_seen: frozenset[Decimal]  # the provider's refunded totals delivered so far
    failed: frozenset[str]  # the refund ids that failed
    # Failed money that reversed nothing when its failure arrived, not yet taken out of a
    # total: the total that held its refund came (or comes) after it.
    unmatched_failures: Decimal

    @property
    def highest_total(self) -> Decimal:
        return max(self.totals_seen, default=Decimal("0.00"))


async def _refund_history(session: AsyncSession, account_id: int,
                          payment_id: int) -> _RefundHistory:
    events = await session.scalars(select(AuditEvent.data).where(
        AuditEvent.action.in_(("payment.refunded", "payment.refund_failed")),
        AuditEvent.subject_type == "account", AuditEvent.subject_id == str(account_id))
        .order_by(AuditEvent.id))
    mine = [d for d in events if d.get("payment_id") == payment_id]
    failures = [d for d in mine if d.get("refund_id")]
    refunds = [d for d in mine if not d.get("refund_id")]
    unmatched = (sum((_money(d, "amount") - _money(d, "restored") for d in failures),
                     Decimal("0.00"))
                 - sum((_money(d, "failed_deducted") for d in refunds), Decimal("0.00")))
    return _RefundHistory(
        totals_seen=frozenset(Decimal(d.get("provider_total") or d.get("refunded") or "0")
                              for d in refunds),
        failed=frozenset(str(d["refund_id"]) for d in failures),
        unmatched_failures=max(Decimal("0.00"), unmatched))


def _money(data: dict[str, Any], key: str) -> Decimal:
    return Decimal(data.get(key) or "0.00")


async def _reapply(session: AsyncSession, account: Account, payment: Payment,
                   posting: _Posting, amount: Decimal, origin: Origin) -> Decimal:
    """Pay again what a failed refund had taken back from the payment's plan or promises;
    the discount written off when that completes a settlement again."""
    if posting.applied_to == "promise":
        await _apply_to_promises(session, account, payment.paid_at, amount, origin)
        return Decimal("0.00")
    if posting.applied_to != "plan":
        return Decimal("0.00")
    plan = await _plan_paid_by(session, account.id, payment, posting.plan_id)
    # A plan broken or superseded since is not paid again: the money stays on the balance.
    if plan is None or plan.status not in (PlanStatus.ACTIVE, PlanStatus.COMPLETED):
        return Decimal("0.00")
    _apply_to_plan(plan, amount)
    if plan.status != PlanStatus.COMPLETED or not plan.is_settlement:
        return Decimal("0.00")
    written_off = account.current_balance
    account.current_balance = Decimal("0.00")
    return written_off


async def _unapply(session: AsyncSession, account_id: int, payment: Payment,
                   applied_to: str | None, plan_id: int | None, amount: Decimal) -> list[str]:
    """Take `amount` back from what the payment paid, latest first; what it reopens."""
    if applied_to == "plan":
        plan = await _plan_paid_by(session, account_id, payment, plan_id)
        return [] if plan is None else await _unapply_plan(session, plan, amount)
    if applied_to == "promise":
        return await _unapply_promises(session, account_id, payment, amount)
    return []


async def _plan_paid_by(session: AsyncSession, account_id: int, payment: Payment,
                        plan_id: int | None) -> PaymentPlan | None:
    query = select(PaymentPlan).options(selectinload(PaymentPlan.installments))
    if plan_id is not None:
        query = query.where(PaymentPlan.id == plan_id)
    else:  # posted before the plan was recorded in the audit event: the one it could reach
        query = query.where(PaymentPlan.account_id == account_id,
                            PaymentPlan.created_at <= payment.created_at)
    plan: PaymentPlan | None = await session.scalar(
        query.order_by(PaymentPlan.id.desc()).limit(1))
    return plan


async def _unapply_plan(session: AsyncSession, plan: PaymentPlan, amount: Decimal) -> list[str]:
    left = amount
    for item in reversed(plan.installments):
        taken = min(left, item.paid_amount)
        if taken <= 0:
            continue
        item.paid_amount -= taken
        left -= taken
        # The lifecycle job marks it missed again if its grace days are over.
        item.status = InstallmentStatus.PARTIAL if item.paid_amount > 0 else InstallmentStatus.DUE
    if plan.status != PlanStatus.COMPLETED or await _active_plan(session, plan.account_id):
        return []
    plan.status = PlanStatus.ACTIVE
    return [f"plan:{plan.id}"]


async def _unapply_promises(session: AsyncSession, account_id: int, payment: Payment,
                            amount: Decimal) -> list[str]:
    promises = (await session.scalars(select(Promise).where(
        Promise.account_id == account_id, Promise.created_at <= payment.created_at,
        Promise.paid_amount > 0, Promise.status != PromiseStatus.CANCELLED)
        .order_by(Promise.due_date.desc(), Promise.id.desc()))).all()
    left, reopened = amount, []
    for promise in promises:
        taken = min(left, promise.paid_amount)
        if taken <= 0:
            break
        promise.paid_amount -= taken
        left -= taken
        if promise.status == PromiseStatus.KEPT:
            # Pending again: the lifecycle job judges it, as any part-paid promise.
            promise.status = PromiseStatus.PENDING
            reopened.append(f"promise:{promise.id}")
        elif promise.status == PromiseStatus.PARTIALLY_KEPT and promise.paid_amount == 0:
            promise.status = PromiseStatus.BROKEN
    return reopened
