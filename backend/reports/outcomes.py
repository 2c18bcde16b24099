"""Outcomes of conversations: contact, promises, plans, settlements, disputes, stop-states."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import (
    Account,
    AuditEvent,
    Conversation,
    Dispute,
    Message,
    PaymentPlan,
    Promise,
)
from backend.db.models.enums import Direction, PromiseStatus, StopState
from backend.db.types import CENT
from backend.reports.filters import (
    ReportFilter,
    account_scope,
    in_period,
    period_conversations,
    scoped_conversations,
    scoped_via,
)
from backend.reports.sql import count_if, ratio, tune_for_reports

RESOLVED_PROMISES = (PromiseStatus.KEPT, PromiseStatus.PARTIALLY_KEPT, PromiseStatus.BROKEN)
# The audit event the identity dialog records on its conversation when verification passes.
IDENTITY_VERIFIED = "identity.verified"


@dataclass(frozen=True)
class RateRow:
    """One rate with the counts it is made of."""

    metric: str
    numerator: int
    denominator: int
    rate: Decimal | None


@dataclass(frozen=True)
class PromiseRow:
    """Promises to pay made in the period, by their current status."""

    status: str
    promises: int
    amount: Decimal
    paid_amount: Decimal


@dataclass(frozen=True)
class PlanRow:
    """Payment plans created in the period, by status; settlements are plans for less."""

    status: str
    plans: int
    total: Decimal
    settlements: int
    settlement_total: Decimal


@dataclass(frozen=True)
class CountRow:
    """A count under a name (dispute status, stop-state)."""

    name: str
    count: int


@dataclass(frozen=True)
class OutcomesReport:
    """The outcomes dashboard: every table of the page."""

    rates: list[RateRow]
    promises_by_status: list[PromiseRow]
    plans_by_status: list[PlanRow]
    disputes_by_status: list[CountRow]
    stop_states: list[CountRow]


async def outcomes_report(session: AsyncSession, flt: ReportFilter) -> OutcomesReport:
    """Conversation rates over conversations started in the period; records made in it."""
    await tune_for_reports(session)
    promises = await _promises(session, flt)
    return OutcomesReport(
        rates=[*await _conversation_rates(session, flt), _kept_rate(promises)],
        promises_by_status=promises,
        plans_by_status=await _plans(session, flt),
        disputes_by_status=await _disputes(session, flt),
        stop_states=await _stop_states(session, flt),
    )


def _inbound_per_conversation(flt: ReportFilter) -> Any:
    query = select(
        Message.conversation_id.label("cid"),
        count_if(Message.intent == "opt_out").label("opt_outs"),
        count_if(Message.intent == "complaint").label("complaints"),
    ).where(Message.direction == Direction.INBOUND)
    if flt.start_at is not None:
        # A conversation started in the period has no message before the period.
        query = query.where(Message.created_at >= flt.start_at)
    if flt.scoped:
        # Aggregates only the scope's conversations, not every message of the period.
        query = query.where(Message.conversation_id.in_(period_conversations(flt)))
    return query.group_by(Message.conversation_id).subquery("inbound")


async def _conversation_rates(session: AsyncSession, flt: ReportFilter) -> list[RateRow]:
    """Right-party contact: the person passed identity verification in the conversation;
    PTP is among right-party contacts.

    Only conversations about an account count: a stranger's (an unknown sender) is no
    creditor's contact, so the figure over all books is the sum of its portfolios'.
    """
    inbound = _inbound_per_conversation(flt)
    verified = _verified_conversations(flt)
    promised = _promised_conversations(flt)
    right_party = verified.c.cid.is_not(None)
    query = (
        select(
            func.count().label("conversations"),
            count_if(right_party).label("right_party"),
            count_if(and_(right_party, promised.c.cid.is_not(None))).label("promised"),
            count_if(inbound.c.opt_outs > 0).label("opt_outs"),
            count_if(inbound.c.complaints > 0).label("complaints"),
        )
        .select_from(Conversation)
        .outerjoin(inbound, inbound.c.cid == Conversation.id)
        .outerjoin(verified, verified.c.cid == Conversation.id)
        .outerjoin(promised, promised.c.cid == Conversation.id)
        .where(Conversation.account_id.is_not(None), *in_period(Conversation.started_at, flt))
    )
    row = (await session.execute(scoped_conversations(query, flt))).one()
    return [
        _rate("right_party_contact", row.right_party, row.conversations),
        _rate("promise_to_pay", row.promised, row.right_party),
        _rate("opt_out", row.opt_outs, row.conversations),
        _rate("complaint", row.complaints, row.conversations),
    ]


def _verified_conversations(flt: ReportFilter) -> Any:
    # The audit log's subject id is text; cast once per verified event, not per conversation.
    cid = cast(AuditEvent.subject_id, Conversation.id.type)
    query = select(cid.label("cid")).distinct().where(
        AuditEvent.action == IDENTITY_VERIFIED, AuditEvent.subject_type == "conversation")
    if flt.start_at is not None:
        # Verification in a conversation comes after it started.
        query = query.where(AuditEvent.occurred_at >= flt.start_at)
    if flt.scoped:
        query = query.where(cid.in_(period_conversations(flt)))
    return query.subquery("verified")


def _promised_conversations(flt: ReportFilter) -> Any:
    query = select(Promise.conversation_id.label("cid")).distinct()
    if flt.start_at is not None:
        # Promises made in a conversation come after it started.
        query = query.where(Promise.created_at >= flt.start_at)
    if flt.scoped:
        query = query.where(Promise.conversation_id.in_(period_conversations(flt)))
    return query.subquery("promised")


def _rate(metric: str, numerator: Any, denominator: Any) -> RateRow:
    return RateRow(metric, int(numerator or 0), int(denominator or 0),
                   ratio(numerator, denominator))


def _kept_rate(promises: list[PromiseRow]) -> RateRow:
    """Kept among promises whose date has passed (pending and cancelled ones are left out)."""
    counts = {p.status: p.promises for p in promises}
    resolved = sum(counts.get(s, 0) for s in RESOLVED_PROMISES)
    return _rate("promise_kept", counts.get(PromiseStatus.KEPT, 0), resolved)


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


async def _promises(session: AsyncSession, flt: ReportFilter) -> list[PromiseRow]:
    query = (
        select(Promise.status, func.count().label("n"), func.sum(Promise.amount).label("amount"),
               func.sum(Promise.paid_amount).label("paid"))
        .where(*in_period(Promise.created_at, flt))
        .group_by(Promise.status)
        .order_by(Promise.status)
    )
    rows = (await session.execute(scoped_via(query, Promise.account_id, flt))).all()
    return [PromiseRow(r.status, r.n, _money(r.amount), _money(r.paid)) for r in rows]


async def _plans(session: AsyncSession, flt: ReportFilter) -> list[PlanRow]:
    settlement = PaymentPlan.is_settlement.is_(True)
    query = (
        select(
            PaymentPlan.status, func.count().label("n"), func.sum(PaymentPlan.total).label("total"),
            count_if(settlement).label("settlements"),
            func.sum(PaymentPlan.total).filter(settlement).label("settled"),
        )
        .where(*in_period(PaymentPlan.created_at, flt))
        .group_by(PaymentPlan.status)
        .order_by(PaymentPlan.status)
    )
    rows = (await session.execute(scoped_via(query, PaymentPlan.account_id, flt))).all()
    return [
        PlanRow(r.status, r.n, _money(r.total), r.settlements, _money(r.settled)) for r in rows
    ]


async def _disputes(session: AsyncSession, flt: ReportFilter) -> list[CountRow]:
    query = (
        select(Dispute.status, func.count().label("n"))
        .where(*in_period(Dispute.opened_at, flt))
        .group_by(Dispute.status)
        .order_by(Dispute.status)
    )
    rows = (await session.execute(scoped_via(query, Dispute.account_id, flt))).all()
    return [CountRow(r.status, r.n) for r in rows]


async def _stop_states(session: AsyncSession, flt: ReportFilter) -> list[CountRow]:
    """Flags carry no date: counted over the accounts placed in the period, as recovery is."""
    flags = [count_if(getattr(Account, s.value).is_(True)).label(s.value) for s in StopState]
    query = select(*flags).where(*in_period(Account.created_at, flt), *account_scope(flt))
    row = (await session.execute(query)).one()
    return [CountRow(s.value, int(getattr(row, s.value) or 0)) for s in StopState]
