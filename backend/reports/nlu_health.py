"""NLU health: what debtors ask for, how often the model is unsure, what agents correct."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import IntentCorrection, Message
from backend.db.models.enums import Direction
from backend.reports.filters import ReportFilter, in_period, scoped_via_conversation
from backend.reports.sql import average, count_if, ratio, tune_for_reports

NO_INTENT = "(none)"
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class IntentRow:
    """Inbound messages read as one intent in the period."""

    intent: str
    messages: int
    share: Decimal | None
    low_confidence: int
    low_confidence_rate: Decimal | None
    avg_confidence: float | None


@dataclass(frozen=True)
class CorrectionRow:
    """Agents relabelled messages the model read as `original_intent` to `corrected_intent`."""

    original_intent: str
    corrected_intent: str
    corrections: int


@dataclass(frozen=True)
class NluSummaryRow:
    """The inbound messages of the period the NLU read (with an intent) at a glance."""

    messages: int
    low_confidence: int
    low_confidence_rate: Decimal | None
    corrected: int
    corrected_rate: Decimal | None


@dataclass(frozen=True)
class NluHealthReport:
    """The NLU health dashboard: every table of the page."""

    summary: list[NluSummaryRow]
    intents: list[IntentRow]
    corrections: list[CorrectionRow]


async def nlu_health_report(
    session: AsyncSession, flt: ReportFilter, *, threshold: float = DEFAULT_THRESHOLD
) -> NluHealthReport:
    """Inbound messages of the period; low confidence means below `threshold`.

    Messages never interpreted (identity answers, no intent) are listed under '(none)' in the
    mix, but the summary's rates count only the messages the NLU read: its messages, the low
    confidence ones among them and the corrections of their readings.
    """
    await tune_for_reports(session)
    intents = await _intent_mix(session, flt, threshold)
    corrections = await _corrections(session, flt)
    read = [i for i in intents if i.intent != NO_INTENT]
    total = sum(i.messages for i in read)
    low = sum(i.low_confidence for i in read)
    corrected = sum(c.corrections for c in corrections if c.original_intent != NO_INTENT)
    summary = NluSummaryRow(total, low, ratio(low, total), corrected, ratio(corrected, total))
    return NluHealthReport(summary=[summary], intents=intents, corrections=corrections)


async def _intent_mix(
    session: AsyncSession, flt: ReportFilter, threshold: float
) -> list[IntentRow]:
    intent = func.coalesce(Message.intent, NO_INTENT).label("intent")
    query = (
        select(intent, func.count().label("n"),
               count_if(Message.confidence < threshold).label("low"),
               average(Message.confidence).label("avg"))
        .where(Message.direction == Direction.INBOUND, *in_period(Message.created_at, flt))
        .group_by(intent)
    )
    rows = (await session.execute(
        scoped_via_conversation(query, Message.conversation_id, flt)
    )).all()
    total = sum(r.n for r in rows)
    mix = [
        IntentRow(r.intent, r.n, ratio(r.n, total), r.low, ratio(r.low, r.n),
                  None if r.avg is None else round(r.avg, 4))
        for r in rows
    ]
    return sorted(mix, key=lambda i: (-i.messages, i.intent))


async def _corrections(session: AsyncSession, flt: ReportFilter) -> list[CorrectionRow]:
    """Corrections of inbound messages received in the period (console's intent_correction)."""
    original = func.coalesce(IntentCorrection.original_intent, NO_INTENT).label("original")
    query = (
        select(original, IntentCorrection.corrected_intent, func.count().label("n"))
        .join(Message, Message.id == IntentCorrection.message_id)
        .where(*in_period(Message.created_at, flt))
        .group_by(original, IntentCorrection.corrected_intent)
    )
    if flt.start_at is not None:
        # An agent corrects a message after it came in: the period's corrections are few,
        # so each one's message is looked up instead of every message of the period scanned.
        query = query.where(IntentCorrection.created_at >= flt.start_at)
    rows = (await session.execute(
        scoped_via_conversation(query, Message.conversation_id, flt)
    )).all()
    table = [CorrectionRow(r.original, r.corrected_intent, r.n) for r in rows]
    return sorted(table, key=lambda c: (-c.corrections, c.original_intent, c.corrected_intent))
