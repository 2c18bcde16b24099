"""Sending one planned contact: claim, re-check the stops, pick a channel, gate, store, send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import (
    Account,
    ContactPoint,
    Conversation,
    Debtor,
    Installment,
    Message,
    PlannedContact,
    Promise,
)
from backend.db.models.enums import Direction, InstallmentStatus, Ownership, PromiseStatus
from backend.services import audit
from backend.services.compliance.gate import AGREED_KEY_PREFIX, GateDecision
from backend.services.compliance.rules import ComplianceRules
from backend.services.compliance.service import ComplianceGate, mask
from backend.services.delivery import envelope_in
from backend.services.geo import debtor_today, debtor_zone
from backend.services.outbox import CAMPAIGN_SENDER
from backend.services.reminders import SENDER as REMINDER_SENDER
from backend.services.row_locks import hold_account
from backend.workflow.context import WorkflowContext
from backend.workflow.render import render, whatsapp_template
from backend.workflow.sources import source_for
from backend.workflow.stops import AGREED, hold_for
from backend.workflow.strategy import Lifecycle, SendWindow, Step
from bot.messages import ConversationKey, OutboundMessage, Purpose

CLAIMABLE = ("planned", "deferred")
STATUS_OF = {"pending": "queued", "deferred": "queued", "blocked": "blocked"}
# A later step in one of these has gone or will go, so an earlier one due with it is dropped.
GOING = ("deferred", "queued", "sent", "handed_off")
# compliance.md A.4 item 20: at most one campaign message an account a debtor-local day.
SPACING_DAYS = 1
SPACING_RULE = "compliance.md A.4 item 20 (one campaign message a day)"
# A message that will still go: the spacing counts it on the day it is due to leave.
WAITING = ("pending", "deferred")


@dataclass(frozen=True)
class Candidate:
    """A message on one channel, with what the gate would say now."""

    outbound: OutboundMessage
    status: str
    reason: str | None
    not_before: datetime | None
    decision: GateDecision | None = None


async def send_contact(ctx: WorkflowContext, contact_id: int) -> str:
    """Run one contact to its outcome; safe to run again (and concurrently) at any point.

    A contact stored for sending whose sender died before sending is sent by the next run.
    """
    now = ctx.clock.now()
    async with ctx.sessions.begin() as session:
        claimed = await _claim(session, contact_id, now)
        contact = await session.get(PlannedContact, contact_id)
        if contact is None:
            return "missing"
        outcome = await _decide(ctx, session, contact, now) if claimed else contact.status
        if claimed:
            contact.updated_at = now
        to_send = contact.message_id if contact.status == "queued" else None
    if to_send is not None:
        await _deliver(ctx, contact_id, to_send)
        return "sent"
    return outcome


async def _claim(session: AsyncSession, contact_id: int, now: datetime) -> bool:
    # The conditional UPDATE is the lock: one worker wins, a crash before commit undoes it.
    result = await session.execute(
        update(PlannedContact)
        .where(PlannedContact.id == contact_id, PlannedContact.status.in_(CLAIMABLE),
               PlannedContact.due_at <= now)
        .values(status="sending", attempts=PlannedContact.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False))
    return (result.rowcount or 0) == 1  # type: ignore[attr-defined]


async def _deliver(ctx: WorkflowContext, contact_id: int, message_id: int) -> None:
    # The outbox claims a message before sending it, so a second call never doubles it.
    await ctx.deliver([message_id])
    async with ctx.sessions.begin() as session:
        await session.execute(_MARK_SENT, {"contact_id": contact_id,
                                           "now": ctx.clock.now()})


def _of_message(column: Any) -> Any:
    return (select(column).where(Message.id == PlannedContact.message_id)
            .scalar_subquery())


# The message's state and conversation go with the send, for the strategy page. A status
# callback that got here first already wrote the (newer) state: it is kept.
_MARK_SENT = (
    update(PlannedContact)
    .where(PlannedContact.id == bindparam("contact_id"), PlannedContact.status == "queued")
    .values(status="sent", updated_at=bindparam("now"),
            conversation_id=_of_message(Message.conversation_id),
            delivery_status=func.coalesce(PlannedContact.delivery_status,
                                          _of_message(Message.delivery_status)))
    .execution_options(synchronize_session=False)
)


async def _decide(ctx: WorkflowContext, session: AsyncSession, contact: PlannedContact,
                  now: datetime) -> str:
    version = await ctx.version(session, contact.strategy_version_id)
    step = version.definition.step(contact.step)
    life = version.definition.lifecycle
    held = await hold_for(session, contact.account_id, contact.anchor, now,
                          timedelta(hours=life.reply_pause_hours))
    held = held or await _source_closed(session, contact)
    if step is None:
        held = held or "step_removed"
    if held:
        return _finish(contact, "cancelled", held)
    assert step is not None
    # The account's other contacts are read under this lock, so two workers sending for one
    # account decide one after the other and the second sees what the first stored.
    await hold_account(session, contact.account_id)
    superseding = await _superseded_by(ctx, session, contact, step, now)
    if superseding is not None:
        return _finish(contact, "skipped", f"superseded by {superseding}, due with it; "
                       "one step at a time")
    account = await session.get(Account, contact.account_id)
    debtor = await session.get(Debtor, account.debtor_id) if account else None
    assert account is not None and debtor is not None
    if _past_its_event(step, contact, life, debtor.timezone, now):
        return _finish(contact, "skipped", f"{contact.anchor} day {contact.anchor_date} has "
                       "come; a reminder before it would say what is no longer true")
    window = _send_window(step, debtor, _rules(ctx))
    later = _window_retime(window, debtor.timezone, now)
    if later is not None:
        contact.due_at = later
        return _finish(contact, "planned", f"re-timed to the step window {later.isoformat()}")
    if step.action == "handoff":
        return await _hand_off(ctx, session, contact, step, account, now)
    spaced = await _spaced_until(session, contact, window, debtor.timezone, now)
    if spaced is not None:
        return await _space(ctx, session, contact, spaced, now)
    return await _message(ctx, session, contact, step, account, debtor, now)


def _past_its_event(step: Step, contact: PlannedContact, life: Lifecycle, zone: str,
                    now: datetime) -> bool:
    """An event step meant before its event (a day-before reminder) whose day has come."""
    if step.offset_days >= 0 or step.anchor == "due_date" or contact.anchor_date is None:
        return False
    event_day = contact.anchor_date + timedelta(days=source_for(step, life).shift_days)
    return debtor_today(now, zone) >= event_day


def _finish(contact: PlannedContact, status: str, outcome: str | None) -> str:
    contact.status, contact.outcome = status, (outcome or None) and outcome[:200]
    return status


async def _source_closed(session: AsyncSession, contact: PlannedContact) -> str | None:
    if contact.anchor == "promise" and contact.source_id is not None:
        promise = await session.get(Promise, contact.source_id)
        if promise is None or promise.status != PromiseStatus.PENDING:
            return f"promise_{promise.status if promise else 'gone'}"
    if contact.anchor == "installment" and contact.source_id is not None:
        installment = await session.get(Installment, contact.source_id)
        if installment is None or installment.status not in (
            InstallmentStatus.DUE, InstallmentStatus.PARTIAL
        ):
            return f"installment_{installment.status if installment else 'gone'}"
    return None


async def _superseded_by(ctx: WorkflowContext, session: AsyncSession, contact: PlannedContact,
                         step: Step, now: datetime) -> str | None:
    """The latest later step of the same ladder that is due now or has gone (it goes instead).

    Steps missed together (a late import, a reply pause, downtime) would otherwise all leave
    at once: only the latest is sent (compliance.md A.4 item 20).
    """
    going = or_(PlannedContact.status.in_(GOING),
                (PlannedContact.status == "planned") & (PlannedContact.due_at <= now))
    rows = await session.execute(select(PlannedContact.step, PlannedContact.strategy_version_id)
                                 .where(*_same_ladder(contact), going))
    later: list[tuple[int, str]] = []
    for step_id, version_id in rows.all():
        other = (await ctx.version(session, version_id)).definition.step(step_id)
        if other is not None and other.offset_days > step.offset_days:
            later.append((other.offset_days, step_id))
    return max(later)[1] if later else None


def _same_ladder(contact: PlannedContact) -> list[Any]:
    return [PlannedContact.account_id == contact.account_id, PlannedContact.id != contact.id,
            PlannedContact.anchor == contact.anchor,
            PlannedContact.anchor_date == contact.anchor_date,
            PlannedContact.source_id.is_not_distinct_from(contact.source_id)]


async def _spaced_until(session: AsyncSession, contact: PlannedContact, window: SendWindow,
                        zone: str, now: datetime) -> datetime | None:
    """The step's window on the next free day when the account had a campaign message today.

    A message counts on the debtor-local day it was sent (or, still waiting, is due to go),
    not the day it was stored: stored last night and sent this morning, it is today's.
    """
    times = await _campaign_send_times(session, contact, now)
    if not times:
        return None
    tz = debtor_zone(zone)
    free = max(times).astimezone(tz).date() + timedelta(days=SPACING_DAYS)
    if now.astimezone(tz).date() >= free:
        return None
    return datetime.combine(free, window.start, tzinfo=tz).astimezone(UTC)


async def _campaign_send_times(session: AsyncSession, contact: PlannedContact, now: datetime
                               ) -> list[datetime]:
    """When each of the account's other recent campaign messages was sent or is due to go.

    The first reminder (`parley remind`) counts too: the same day, a step would repeat it.
    """
    # Beyond the spacing (and a day for zone offsets) a message cannot share a local day.
    since = now - timedelta(days=SPACING_DAYS + 1)
    recent = or_(Message.processed_at >= since, Message.created_at >= since,
                 Message.delivery_status.in_(WAITING))
    rows = await session.execute(
        select(Message.delivery_status, Message.processed_at, Message.created_at,
               Message.entities)
        .join(PlannedContact, PlannedContact.message_id == Message.id)
        .where(PlannedContact.account_id == contact.account_id, PlannedContact.id != contact.id,
               PlannedContact.status.in_(("queued", "sent")),
               # Blocked by the gate when it fell due, it never left and takes no day.
               Message.delivery_status != "blocked", recent))
    times = [_send_time(*row) for row in rows.all()]
    return times + await _reminder_send_times(session, contact.account_id, recent)


async def _reminder_send_times(session: AsyncSession, account_id: int, recent: Any
                               ) -> list[datetime]:
    """When the account's recent first reminders were sent or are due to go."""
    debtor_id = select(Account.debtor_id).where(Account.id == account_id).scalar_subquery()
    rows = await session.execute(
        select(Message.delivery_status, Message.processed_at, Message.created_at,
               Message.entities)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.debtor_id == debtor_id, Message.direction == Direction.OUTBOUND,
               Message.sender == REMINDER_SENDER, Message.delivery_status != "blocked",
               recent))
    # The spacing is per account: the debtor's other accounts' reminders are not counted.
    return [_send_time(*row) for row in rows.all()
            if envelope_in(row.entities).get("account_id") == account_id]


def _send_time(status: str, processed_at: datetime | None, created_at: datetime,
               entities: list[dict[str, Any]] | None) -> datetime:
    """`processed_at` is when the outbox let it go; a deferred one goes at its `not_before`."""
    if status == "deferred":
        due = envelope_in(entities).get("not_before")
        if due:
            return datetime.fromisoformat(due)
    return processed_at or created_at


async def _space(ctx: WorkflowContext, session: AsyncSession, contact: PlannedContact,
                 until: datetime, now: datetime) -> str:
    contact.due_at = until
    decision = GateDecision("deferred", "campaign_spacing", SPACING_RULE, not_before=until,
                            details={"spacing_days": SPACING_DAYS})
    if _records(ctx):
        await _record(session, contact, decision, {"account_id": contact.account_id}, now)
    return _finish(contact, "deferred", f"campaign_spacing until {until.isoformat()}")


def _rules(ctx: WorkflowContext) -> ComplianceRules:
    rules = getattr(ctx.gate, "rules", None)
    return rules if isinstance(rules, ComplianceRules) else ComplianceRules()


def _send_window(step: Step, debtor: Debtor, rules: ComplianceRules) -> SendWindow:
    """The step's window, or the debtor's allowed hours when the two never meet.

    The gate defers a contact to when those hours open; were the step's window closed by then,
    it would be re-timed and deferred again every day and never sent. The law wins over the aim.
    """
    start, end = rules.quiet_start, rules.quiet_end
    if debtor.contact_not_before is not None:
        start = max(start, debtor.contact_not_before)
    if debtor.contact_not_after is not None:
        end = min(end, debtor.contact_not_after)
    window = step.window
    if end <= start or (window.start < end and start < window.end):
        return window  # no hour left at all: the gate blocks it, the window does not matter
    return SendWindow(start=start, end=end)


def _window_retime(window: SendWindow, zone: str, now: datetime) -> datetime | None:
    """The next start of the send window when `now` is outside it (debtor-local)."""
    tz = debtor_zone(zone)
    local = now.astimezone(tz)
    if window.start <= local.time() < window.end:
        return None
    day = local.date() + timedelta(days=0 if local.time() < window.start else 1)
    return datetime.combine(day, window.start, tzinfo=tz).astimezone(UTC)


async def _message(ctx: WorkflowContext, session: AsyncSession, contact: PlannedContact,
                   step: Step, account: Account, debtor: Debtor, now: datetime) -> str:
    link = ctx.portal_links.url_for(account) if ctx.portal_links is not None else None
    text = render(step, contact.variant, debtor.preferred_language, link)
    reachable = await _reachable(session, debtor.id, step.channels)
    usable = [cp for cp in reachable if ctx.channels is None or cp.channel in ctx.channels]
    if not usable:
        # The debtor can be reached, only not by a provider this installation has set up.
        missing = list(dict.fromkeys(cp.channel for cp in reachable))
        return _finish(contact, "blocked", f"channel_not_configured: {', '.join(missing)}"
                       if missing else "no_reachable_channel")
    outbounds = [_outbound(contact, step, cp, text, link, debtor.preferred_language)
                 for cp in usable]
    candidates = await _previews(ctx, session, outbounds, now)
    chosen = _choose(candidates)
    await _record_passed_over(ctx, session, contact, candidates, chosen, now)
    if chosen.status == "deferred":
        # Deferred here, not in the outbox: at the new time the stop rules run again too.
        contact.due_at = chosen.not_before or now + timedelta(hours=1)
        when = contact.due_at.isoformat()
        return _finish(contact, "deferred", f"{chosen.reason} until {when}")
    decision = await ctx.outbox.submit(session, chosen.outbound)
    contact.channel, contact.message_id = chosen.outbound.key.channel, decision.message_id
    outcome = decision.reason or ("deferred by the outbox" if decision.status == "deferred"
                                  else None)
    return _finish(contact, STATUS_OF.get(decision.status, "blocked"), outcome)


def _choose(candidates: list[Candidate]) -> Candidate:
    """The first allowed channel; else the first deferral; else the first (blocked) one."""
    for wanted in ("pending", "deferred"):
        for candidate in candidates:
            if candidate.status == wanted:
                return candidate
    return candidates[0]


async def _previews(ctx: WorkflowContext, session: AsyncSession,
                    outbounds: list[OutboundMessage], now: datetime) -> list[Candidate]:
    """The gate's view of each channel in order of preference, up to the first it allows."""
    candidates: list[Candidate] = []
    for outbound in outbounds:
        candidates.append(await _preview(ctx, session, outbound, now))
        if candidates[-1].status == "pending":
            break
    return candidates


async def _preview(ctx: WorkflowContext, session: AsyncSession, outbound: OutboundMessage,
                   now: datetime) -> Candidate:
    if ctx.gate is None:
        return Candidate(outbound, "pending", None, None)
    decision = await ctx.gate.preview(session, outbound, None, now)
    return Candidate(outbound, decision.status, decision.reason, decision.not_before, decision)


def _records(ctx: WorkflowContext) -> bool:
    # The dry run's stand-in gate writes no audit (docs/WORKFLOW.md), and neither do we there.
    return isinstance(ctx.gate, ComplianceGate)


async def _record_passed_over(ctx: WorkflowContext, session: AsyncSession,
                              contact: PlannedContact, candidates: list[Candidate],
                              chosen: Candidate, now: datetime) -> None:
    """Record the gate's decision on every channel not stored to send, deferrals included.

    The outbox records the decision on the message it stores (compliance.md G item 77).
    """
    if not _records(ctx):
        return
    stored = None if chosen.status == "deferred" else chosen
    for candidate in candidates:
        if candidate is stored or candidate.decision is None:
            continue
        out = candidate.outbound
        await _record(session, contact, candidate.decision, {
            "purpose": out.purpose.value, "channel": out.key.channel,
            "address": mask(out.key.address), "account_id": out.account_id,
            "chosen_channel": stored.outbound.key.channel if stored else None}, now)


async def _record(session: AsyncSession, contact: PlannedContact, decision: GateDecision,
                  inputs: dict[str, Any], now: datetime) -> None:
    await audit.record(
        session, occurred_at=now, actor="workflow", action=f"compliance.{decision.status}",
        subject_type="planned_contact", subject_id=contact.id,
        data={"reason": decision.reason, "rule": decision.rule, "step": contact.step,
              "not_before": decision.not_before, "use_template": decision.use_template,
              **inputs, **decision.details})


async def _reachable(session: AsyncSession, debtor_id: int, channels: tuple[str, ...]
                     ) -> list[ContactPoint]:
    rows = (await session.scalars(select(ContactPoint).where(
        ContactPoint.debtor_id == debtor_id, ContactPoint.channel.in_(channels)))).all()
    usable = [c for c in rows if c.reachable]
    return sorted(usable, key=lambda c: (channels.index(c.channel), c.id))  # type: ignore[arg-type]


def _outbound(contact: PlannedContact, step: Step, cp: ContactPoint, text: str,
              link: str | None, language: str) -> OutboundMessage:
    return OutboundMessage(
        key=ConversationKey(cp.channel, cp.address), text=text, purpose=Purpose.REMINDER,
        account_id=contact.account_id, template=whatsapp_template(step, contact.variant),
        template_vars={"1": link or ""}, sender=CAMPAIGN_SENDER,
        idempotency_key=_idempotency_key(contact), language=language,
    )


def _idempotency_key(contact: PlannedContact) -> str:
    """The contact's key, marked for the gate when it is about what the debtor agreed."""
    # Under hardship the gate lets these go and holds the rest (compliance.md F items 67, 73).
    agreed = AGREED_KEY_PREFIX if contact.anchor in AGREED else ""
    return agreed + contact.key


async def _hand_off(ctx: WorkflowContext, session: AsyncSession, contact: PlannedContact,
                    step: Step, account: Account, now: datetime) -> str:
    queues = getattr(ctx.handoffs, "queues", None)
    if step.queue and queues is not None and step.queue not in queues.names:
        # Saved before queues were checked, or since removed from the queues file: the
        # handoff service would quietly use its default queue instead.
        return _finish(contact, "blocked", f"unknown_queue: {step.queue}")
    conversation = await _conversation_for(session, account, now)
    if ctx.handoffs is None:
        return _finish(contact, "blocked", "no_handoff_service")
    await ctx.handoffs.open_handoff(session, conversation.id, "collections_ladder", now=now,
                                    queue=step.queue, note=step.reason or step.id)
    return _finish(contact, "handed_off", f"queue {step.queue or 'default'}")


async def _conversation_for(session: AsyncSession, account: Account, now: datetime
                            ) -> Conversation:
    found = await session.scalar(
        select(Conversation).where(Conversation.account_id == account.id)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(1))
    if found is not None:
        return found
    point = await session.scalar(select(ContactPoint).where(
        ContactPoint.debtor_id == account.debtor_id).order_by(ContactPoint.id).limit(1))
    channel, address = (point.channel, point.address) if point else ("web", f"account:{account.id}")
    created = Conversation(channel=channel, address=address, debtor_id=account.debtor_id,
                           account_id=account.id, ownership=Ownership.BOT, started_at=now,
                           last_message_at=now)
    session.add(created)
    await session.flush()
    return created
