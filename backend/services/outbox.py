"""The outbox: gate and store every outbound message in the caller's transaction, send after."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Text, bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.db.engine import autocommit
from backend.db.models import (
    Account,
    AuditEvent,
    Conversation,
    Message,
    MessagePart,
    PlannedContact,
    Portfolio,
)
from backend.db.models.enums import Channel, Direction, Ownership
from backend.db.types import UtcDateTime
from backend.services import audit, message_feed
from backend.services.address_forms import latest_form
from backend.services.compliance.consent import record_opt_out
from backend.services.compliance.gate import GateDecision
from backend.services.compliance.service import ComplianceGate
from backend.services.delivery import (
    apply_statuses,
    envelope,
    envelope_in,
    mirror_to_contact,
    set_envelope,
)
from backend.services.handoff import SYSTEM_ACTOR, HandoffError, HandoffService
from backend.services.inbox import resolve_address
from backend.services.policy.loader import PolicyError, parse_policy
from backend.services.policy.model import Policy
from backend.services.queues import load_queues
from backend.services.row_locks import hold_account, hold_address
from bot.channels.base import ChannelAdapter, Delivery, SendResult, StatusUpdate
from bot.channels.errors import (
    ChannelError,
    OutcomeUnknown,
    RecipientOptedOut,
    ReEngagementRequired,
    TransientChannelError,
)
from bot.clock import Clock
from bot.dialogs.base import Reply, Said
from bot.messages import Choice, ConversationKey, OutboundMessage, Purpose
from bot.ports import OutboxDecision
from bot.responses import RenderContext, Rendered, Renderer

log = logging.getLogger(__name__)
CAMPAIGN_SENDER = "workflow"  # `Message.sender` of a campaign step (backend/workflow/sender.py)
STUCK_AFTER = timedelta(minutes=10)
# A message let go but never claimed: its sender died (or failed) between the commit and the
# send. Nothing reached the provider, so it is gated again and sent; the grace keeps a live
# sender's own claim, a moment after its commit, from being raced.
ABANDONED_AFTER = timedelta(minutes=2)
UNDELIVERED = "reply_undelivered"  # the handoff reason when the outbox gives up on a message
SUPERSEDED = "superseded"  # a held reply a later turn's reply made out of date
VERIFICATION_EXPIRED = "verification_expired"  # a held reply whose verification ran out
VERIFIED_ACTION = "identity.verified"  # the turn's audit event when verification passes
REVERIFY_KEY = "identity.reverify_held"  # said instead of replies dropped as expired
REVERIFY_ACTION = "message.reverify_prompted"
DEFAULT_VERIFIED_TTL = timedelta(minutes=Policy().verification.verified_ttl_minutes)
HandoffLookup = Callable[[], HandoffService | None]


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for transient provider failures (429, 5xx, refused connections).

    `attempts` calls in the request, then the message waits, deferred, for the release job:
    `later_delay` after the first failed round, doubling up to `later_max`, until a next try
    would fall more than `give_up_after` after the first failure; then it fails for good.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    later_delay: timedelta = timedelta(minutes=1)
    later_max: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=24)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt `attempt + 1` (the provider's Retry-After wins)."""
        return min(self.max_delay, retry_after or self.base_delay * 2**attempt)

    def later(self, rounds: int, retry_after: float | None) -> timedelta:
        """How long to wait after the `rounds`-th failed round (never less than Retry-After)."""
        wait = min(self.later_max, self.later_delay * 2 ** (rounds - 1))
        return max(wait, timedelta(seconds=retry_after or 0))


class SqlOutbox:
    """Implements bot.ports.Outbox over the database, the compliance gate and the adapters."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, gate: ComplianceGate,
        adapters: Mapping[str, ChannelAdapter], retry: RetryPolicy | None = None,
        handoffs: HandoffLookup | None = None, verified_ttl: timedelta = DEFAULT_VERIFIED_TTL,
        renderer: Renderer | None = None,
    ) -> None:
        self.sessions, self.clock, self.gate = sessions, clock, gate
        self._renderer = renderer  # built on first use when not given: few outboxes need it
        # How long a verification lasts for a portfolio without its own policy.
        self.verified_ttl = verified_ttl
        self.adapters = adapters
        self.retry = retry or RetryPolicy()
        # Looked up when needed: the console or the conversations install the shared service
        # after the channels.
        self.handoffs = handoffs
        self._own_handoffs: HandoffService | None = None

    async def submit(self, session: AsyncSession, outbound: OutboundMessage) -> OutboxDecision:
        """Gate `outbound` at clock.now() and store it (pending / deferred / blocked)."""
        now = self.clock.now()
        conversation = await conversation_for(session, outbound.key, outbound.account_id,
                                              now, conversation_id=outbound.conversation_id)
        if outbound.account_id is None and conversation.account_id is not None:
            outbound = replace(outbound, account_id=conversation.account_id)
        message = Message(
            conversation_id=conversation.id, direction=Direction.OUTBOUND,
            channel=outbound.key.channel, sender=outbound.sender[:16], text=outbound.text,
            intent=outbound.purpose.value, delivery_status="pending", created_at=now,
            entities=[{"outbound": _envelope_of(outbound)}],
        )
        decision = await self._gate(session, outbound, message, conversation.id, now)
        return OutboxDecision(message.id, decision.status,
                              None if decision.allowed else decision.reason, decision.not_before)

    async def _gate(self, session: AsyncSession, outbound: OutboundMessage, message: Message,
                    conversation_id: int, now: datetime) -> GateDecision:
        """Decide, store `message` with the decision applied, and record it."""
        if not isinstance(self.gate, ComplianceGate):  # a stand-in (the workflow's dry run)
            session.add(message)
            await session.flush()
            decision = await self.gate.evaluate(session, outbound, conversation_id=conversation_id,
                                                message_id=message.id, now=now)
            _apply_decision(message, decision, now)
            return decision
        if outbound.purpose in self.gate.rules.counted_purposes:
            # Two outreach messages at once (a campaign step and a reminder) would each count
            # only what is committed and both pass the frequency cap (compliance.md A.4 item 20);
            # the account too, as a cap may count every channel (B item 31). Account first:
            # callers that lock the account do so before they submit.
            if outbound.account_id is not None:
                await hold_account(session, outbound.account_id)
            await hold_address(session, outbound.key.channel, outbound.key.address)
        # Decided before the row exists (its facts would exclude the row anyway), so the
        # message is inserted once with its final status instead of inserted, then updated.
        decision = await self.gate.preview(session, outbound, conversation_id, now)
        _apply_decision(message, decision, now)
        session.add(message)
        await session.flush()
        await self.gate.record(session, outbound, decision, message_id=message.id, now=now)
        return decision

    async def send(self, message_ids: list[int]) -> None:
        """Send stored pending messages (call after the submitting transaction committed)."""
        for message_id in message_ids:
            claimed = await self._claim(message_id)
            if claimed is None:
                continue
            adapter, delivery, attempts = claimed
            if delivery.unknown_since is not None:
                delivery = replace(delivery, sent_ids=await self._sent_ids(message_id))
            outcome = await self._deliver(adapter, delivery, attempts)
            resend = await self._record(message_id, delivery, outcome)
            if resend:
                await self.send([message_id])

    async def record_statuses(self, updates: Sequence[StatusUpdate]) -> list[int]:
        """Apply provider status callbacks; returns ids the gate allows to `send` again."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            resend = await apply_statuses(session, updates, now)
            due = [m for m in [await session.get(Message, i) for i in resend] if m is not None]
            return await self._regate(session, due, now)

    async def release_due(self, now: datetime) -> list[int]:
        """Periodic job: re-check deferred messages that are due, send what the gate allows."""
        async with self.sessions.begin() as session:
            await self._fail_stuck(session, now)
            due = [m for m in await self._deferred(session) if _not_before(m) <= now]
            due += await self._abandoned(session, now)
            ready = await self._regate(session, due, now)
        await self.send(ready)
        return ready

    async def _regate(self, session: AsyncSession, due: list[Message], now: datetime
                      ) -> list[int]:
        """Run the gate again on stored messages; the ids it allows now (left pending).

        A held bot reply is dropped first when it is out of date (`_stale`); a conversation
        whose replies were dropped as expired is asked to verify again (`_ask_to_reverify`).
        """
        expired: dict[int, Message] = {}
        for message in due:
            if await self._drop_stale(session, message, now):
                if message.error_code == VERIFICATION_EXPIRED:
                    _keep_latest(expired, message)
                continue
            outbound = await _rebuild(session, message)
            decision = await self.gate.evaluate(
                session, outbound, conversation_id=message.conversation_id,
                message_id=message.id, now=now)
            _apply_decision(message, decision, now)
        ready = [m.id for m in due if m.delivery_status == "pending"]
        answered = {m.conversation_id for m in due
                    if m.delivery_status == "pending" and _is_reply(m)}
        for conversation_id, dropped in expired.items():
            if conversation_id not in answered:
                ready += await self._ask_to_reverify(session, dropped, now)
        return ready

    async def _ask_to_reverify(self, session: AsyncSession, dropped: Message, now: datetime
                               ) -> list[int]:
        """Say, instead of held replies dropped as expired, that identity is asked again.

        The debtor answered everything overnight and would otherwise hear nothing. The message
        names nothing about the debt (compliance.md A.2 item 9: the phone may be someone
        else's now) and passes the gate like any reply; deferred or blocked, nothing more.
        `dropped` is the conversation's latest such reply: one message however many dropped.
        """
        conversation = await session.get(Conversation, dropped.conversation_id)
        if conversation is None or conversation.ownership != Ownership.BOT:
            return []  # a person holds the conversation now: the bot stays silent
        data = envelope(dropped)
        policy = await self._policy(session, dropped, data)
        locale = data.get("language") or "en"
        rendered = self._render(REVERIFY_KEY, RenderContext(
            locale=locale, channel=dropped.channel, wording=policy.wording if policy else None))
        decision = await self.submit(session, OutboundMessage(
            key=ConversationKey(dropped.channel, conversation.address), text=rendered.text,
            purpose=Purpose.REPLY, conversation_id=conversation.id,
            account_id=data.get("account_id"), in_reply_to=data.get("in_reply_to"),
            idempotency_key=f"reverify:{dropped.id}", language=locale))
        log.info("conversation %s: identity asked again (message %s, %s)", conversation.id,
                 decision.message_id, decision.status)
        await audit.record(session, occurred_at=now, actor="outbox", action=REVERIFY_ACTION,
                           subject_type="message", subject_id=decision.message_id,
                           data={"conversation_id": conversation.id, "instead_of": dropped.id,
                                 "status": decision.status})
        return [decision.message_id] if decision.allowed and decision.message_id else []

    def _render(self, key: str, ctx: RenderContext) -> Rendered:
        if self._renderer is None:
            self._renderer = Renderer()
        return self._renderer.render(Said(Reply(key)), ctx)

    async def _drop_stale(self, session: AsyncSession, message: Message, now: datetime
                          ) -> bool:
        """Mark a held reply that must not go any more; True when it was dropped.

        Only the bot's replies: reminders, campaign steps, agents' messages and receipts keep
        their own rules. A reply waits for the night or a provider outage while the debtor
        may write again: the later turn's reply answers what they said since, and a reply
        that relied on a verification which has run out would speak to whoever holds the
        phone now (compliance.md A.2 item 9).
        """
        data = envelope(message)
        if data.get("purpose") != Purpose.REPLY.value:
            return False
        newer = await _superseded_by(session, message, data)
        if newer is not None:
            message.delivery_status, message.error_code = SUPERSEDED, SUPERSEDED
            await self._audit_drop(session, message, now, "message.superseded",
                                   {"superseded_by": newer})
            return True
        if not (data.get("recipient_verified") or data.get("discusses_debt")):
            return False
        until = await self._verified_until(session, message, data)
        if now < until:
            return False
        message.delivery_status, message.error_code = "blocked", VERIFICATION_EXPIRED
        await self._audit_drop(session, message, now, "message.verification_expired",
                               {"verified_until": until.isoformat()})
        return True

    async def _verified_until(self, session: AsyncSession, message: Message,
                              data: dict[str, Any]) -> datetime:
        """When the verification a held reply relied on ended (or ends).

        The conversation's last `identity.verified` up to the reply's creation, else the
        creation itself (verification came no later), plus the portfolio's verification TTL.
        """
        verified_at = await session.scalar(
            select(func.max(AuditEvent.occurred_at)).where(
                AuditEvent.action == VERIFIED_ACTION, AuditEvent.subject_type == "conversation",
                AuditEvent.subject_id == str(message.conversation_id),
                AuditEvent.occurred_at <= message.created_at))
        return (verified_at or message.created_at) + await self._ttl(session, message, data)

    async def _ttl(self, session: AsyncSession, message: Message, data: dict[str, Any]
                   ) -> timedelta:
        policy = await self._policy(session, message, data)
        if policy is None:
            return self.verified_ttl
        return timedelta(minutes=policy.verification.verified_ttl_minutes)

    async def _policy(self, session: AsyncSession, message: Message, data: dict[str, Any]
                      ) -> Policy | None:
        """The portfolio's own policy for a message's account; None without one (or unusable)."""
        account_id = data.get("account_id") or await session.scalar(
            select(Conversation.account_id).where(Conversation.id == message.conversation_id))
        policy = await session.scalar(
            select(Portfolio.policy).join(Account, Account.portfolio_id == Portfolio.id)
            .where(Account.id == account_id)) if account_id is not None else None
        if not policy:
            return None
        try:
            return parse_policy(policy)
        except PolicyError:
            return None

    async def _audit_drop(self, session: AsyncSession, message: Message, now: datetime,
                          action: str, data: dict[str, Any]) -> None:
        log.info("held message %s dropped: %s", message.id, message.error_code)
        await audit.record(session, occurred_at=now, actor="outbox", action=action,
                           subject_type="message", subject_id=message.id,
                           data={"conversation_id": message.conversation_id, **data})

    async def _claim(self, message_id: int) -> tuple[ChannelAdapter, Delivery, int] | None:
        # Only one sender may move a message out of "pending": the claim is the idempotency.
        # One statement in autocommit: the claim and what the send needs, in one round trip;
        # the address's form is a second (SQLite's RETURNING cannot hold its join).
        async with autocommit(self.sessions) as conn:
            row = (await conn.execute(_CLAIM, {"message_id": message_id,
                                               "now": self.clock.now()})).first()
            if row is None:
                return None
            adapter = self.adapters.get(row.channel)
            status = "queued" if adapter is not None else "failed"
            if adapter is None:
                await conn.execute(
                    update(Message).where(Message.id == message_id)
                    .values(delivery_status="failed", error_code="no_adapter"))
            await message_feed.announce_now(conn, message_feed.message_event(
                message_id, row.conversation_id, Direction.OUTBOUND, status))
            if adapter is None:
                return None
            # Only WhatsApp names one number two ways: other channels skip the lookup.
            form = (await latest_form(conn, row.conversation_id)
                    if row.channel == Channel.WHATSAPP else None)
        # A message back from a failed round gets one call: its backoff is the deferral, and
        # a release job that sleeps through every message's in-request retries falls behind.
        retried = bool(envelope_in(row.entities).get("failed_rounds"))
        return adapter, _delivery_of(row, form), 1 if retried else self.retry.attempts

    async def _deliver(self, adapter: ChannelAdapter, delivery: Delivery, attempts: int
                       ) -> SendResult | ChannelError:
        failures = 0
        while True:  # ends: transient failures are counted, the template switch happens once
            started = self.clock.now()
            try:
                return _with_parts(await adapter.send(delivery), delivery.part_ids)
            except OutcomeUnknown as exc:
                # Not again now: the provider may still be taking it. A later round looks
                # the message up first (and the wait lets a slow create land).
                exc.since = exc.since or started
                return exc
            except TransientChannelError as exc:
                delivery = _resumed(delivery, exc)
                failures += 1
                if failures >= attempts:
                    return exc
                await asyncio.sleep(self.retry.delay(failures - 1, exc.retry_after))
            except ReEngagementRequired as exc:
                if not delivery.template or delivery.use_template:
                    return exc
                delivery = replace(_resumed(delivery, exc), use_template=True)
            except ChannelError as exc:
                return exc

    async def _record(self, message_id: int, delivery: Delivery,
                      outcome: SendResult | ChannelError) -> bool:
        now = self.clock.now()
        if isinstance(outcome, SendResult) and not (delivery.use_template or outcome.part_ids):
            async with autocommit(self.sessions) as conn:
                sent = (await conn.execute(_SENT, {
                    "message_id": message_id, "status": outcome.status,
                    "provider_id": outcome.provider_message_id, "text": outcome.text})).first()
                if sent is not None:
                    await message_feed.announce_now(conn, message_feed.message_event(
                        message_id, sent.conversation_id, Direction.OUTBOUND,
                        sent.delivery_status))
                if sent is not None and sent.sender == CAMPAIGN_SENDER:
                    # A campaign send: its contact may still say "deferred" (a failed round).
                    await conn.execute(_SENT_TO_CONTACT, {"sent_id": message_id,
                                                          "state": sent.delivery_status})
            return False
        async with self.sessions.begin() as session:
            message = await session.get(Message, message_id)
            assert message is not None
            await _index_parts(session, message, outcome.part_ids)
            if isinstance(outcome, SendResult):
                _record_sent(message, delivery, outcome)
                await mirror_to_contact(session, message)
                return False
            if isinstance(outcome, TransientChannelError) and await self._send_later(
                session, message, outcome, now
            ):
                await mirror_to_contact(session, message)
                return False
            message.delivery_status, message.error_code = "failed", outcome.code
            _keep_part_ids(message, outcome.part_ids)
            await mirror_to_contact(session, message)
            if isinstance(outcome, TransientChannelError):  # its retries are spent
                await self._hand_to_person(session, message, now)
            if isinstance(outcome, RecipientOptedOut):
                await record_opt_out(session, delivery.key, f"provider:{outcome.code}", now)
            log.warning("message %s failed on %s: %s (%s)", message_id, delivery.key.channel,
                        type(outcome).__name__, outcome.code)
            await audit.record(session, occurred_at=now, actor="outbox", action="message.failed",
                               subject_type="message", subject_id=message_id,
                               data={"error": type(outcome).__name__, "code": outcome.code,
                                     "failed_rounds": envelope(message).get("failed_rounds")})
            return False

    async def _send_later(self, session: AsyncSession, message: Message,
                          outcome: TransientChannelError, now: datetime) -> bool:
        """Defer a message the provider could not take now; False once its retries are spent."""
        data = envelope(message)
        if isinstance(outcome, OutcomeUnknown) and not data.get("unknown_since"):
            data["unknown_since"] = (outcome.since or now).isoformat()
        if outcome.parts_sent > int(data.get("parts_sent") or 0):
            data["parts_sent"] = outcome.parts_sent
        data = _part_ids_kept(data, outcome.part_ids)
        rounds = int(data.get("failed_rounds") or 0) + 1
        since = datetime.fromisoformat(data["failing_since"]) if data.get("failing_since") else now
        not_before = now + self.retry.later(rounds, outcome.retry_after)
        set_envelope(message, {**data, "failed_rounds": rounds, "failing_since": since.isoformat()})
        if not_before > since + self.retry.give_up_after:
            return False
        # Deferred like a message waiting for the gate: release_due gates it again at
        # `not_before` (an opt-out or the night may come meanwhile) and sends it with the same
        # idempotency key.
        set_envelope(message, {**envelope(message), "not_before": not_before.isoformat()})
        message.delivery_status, message.error_code = "deferred", outcome.code
        log.warning("message %s not sent (%s), round %d; next try at %s", message.id,
                    outcome.code, rounds, not_before.isoformat())
        await audit.record(session, occurred_at=now, actor="outbox", action="message.retry_later",
                           subject_type="message", subject_id=message.id,
                           data={"error": type(outcome).__name__, "code": outcome.code,
                                 "failed_rounds": rounds, "not_before": not_before.isoformat()})
        return True

    async def _sent_ids(self, message_id: int) -> frozenset[str]:
        """Provider ids of the conversation's other messages (every part of a split one): a
        lookup must not adopt them."""
        others = Message.__table__.alias("others")
        async with autocommit(self.sessions) as conn:
            rows = await conn.execute(
                select(others.c.provider_message_id, others.c.entities).where(
                    others.c.conversation_id == select(Message.conversation_id)
                    .where(Message.id == message_id).scalar_subquery(),
                    others.c.id != message_id, others.c.direction == Direction.OUTBOUND,
                    others.c.provider_message_id.is_not(None))
                .order_by(others.c.id.desc()).limit(200))
            return frozenset(part for provider_id, entities in rows.all()
                             for part in _every_part(provider_id, entities))

    async def _deferred(self, session: AsyncSession) -> list[Message]:
        return list((await session.scalars(select(Message).where(
            Message.direction == Direction.OUTBOUND, Message.delivery_status == "deferred")
            .order_by(Message.id))).all())

    async def _abandoned(self, session: AsyncSession, now: datetime) -> list[Message]:
        return list((await session.scalars(select(Message).where(
            Message.direction == Direction.OUTBOUND, Message.delivery_status == "pending",
            func.coalesce(Message.processed_at, Message.created_at) < now - ABANDONED_AFTER)
            .order_by(Message.id))).all())

    async def _fail_stuck(self, session: AsyncSession, now: datetime) -> None:
        # A sender that died between claim and provider reply: the outcome is unknown, and a
        # blind re-send could double the message, so it is marked for a human instead.
        stuck = (await session.scalars(
            update(Message).where(Message.direction == Direction.OUTBOUND,
                                  Message.delivery_status == "queued",
                                  Message.provider_message_id.is_(None),
                                  func.coalesce(Message.processed_at, Message.created_at)
                                  < now - STUCK_AFTER)
            .values(delivery_status="failed", error_code="unknown_outcome")
            .returning(Message.id)
            .execution_options(synchronize_session=False))).all()
        for message_id in stuck:
            message = await session.get(Message, message_id)
            if message is not None:
                await self._hand_to_person(session, message, now)

    async def _hand_to_person(self, session: AsyncSession, message: Message, now: datetime
                              ) -> None:
        """A person takes the conversation of a message the outbox gave up on.

        The debtor may be waiting for it (a payment link, a confirmed promise). Once per
        conversation: while it waits for or is owned by a person, the service opens nothing.
        """
        if envelope(message).get("purpose") == Purpose.REMINDER.value:
            return  # outreach nobody asked for: the workflow tracks it, no one is waiting
        try:
            opened = await self._handoff_service().open_handoff(
                session, message.conversation_id, UNDELIVERED, now=now, actor=SYSTEM_ACTOR,
                note=f"message {message.id} could not be delivered ({message.error_code})")
        except HandoffError as exc:  # another sender handed it over at the same moment
            log.info("message %s: no handoff (%s)", message.id, type(exc).__name__)
            return
        if not opened.changed:
            return
        log.warning("message %s undeliverable: conversation %s handed to a person", message.id,
                    message.conversation_id)
        await audit.record(session, occurred_at=now, actor="outbox",
                           action="message.handed_off", subject_type="message",
                           subject_id=message.id,
                           data={"conversation_id": message.conversation_id,
                                 "handoff_id": opened.handoff_id, "reason": UNDELIVERED,
                                 "code": message.error_code})

    def _handoff_service(self) -> HandoffService:
        found = self.handoffs() if self.handoffs is not None else None
        if found is not None:
            return found
        if self._own_handoffs is None:  # an outbox built without one: the shipped queues
            self._own_handoffs = HandoffService(load_queues())
        return self._own_handoffs


def _record_sent(message: Message, delivery: Delivery, outcome: SendResult) -> None:
    """What `_SENT` does, for a template or a split message: their details go in the envelope."""
    message.provider_message_id = outcome.provider_message_id
    if message.delivery_status in ("queued", "pending"):
        message.delivery_status = outcome.status
    if outcome.text is not None:
        message.text = outcome.text
    data = envelope(message)
    if delivery.use_template:
        data["use_template"] = True
    set_envelope(message, _part_ids_kept(data, outcome.part_ids))


async def _index_parts(session: AsyncSession, message: Message, ids: Sequence[str]) -> None:
    """Index the ids of parts the provider took (`message_part`), in the transaction that
    adds them to the envelope's `part_ids`: their statuses look the message up by them."""
    if not ids:
        return
    known = set(await session.scalars(select(MessagePart.provider_message_id).where(
        MessagePart.message_id == message.id)))
    session.add_all(MessagePart(provider_message_id=part, channel=message.channel,
                                message_id=message.id)
                    for part in dict.fromkeys(ids) if part not in known)


def _keep_part_ids(message: Message, ids: Sequence[str]) -> None:
    """Store the ids of parts the provider took: their statuses must find the message."""
    if ids:
        set_envelope(message, _part_ids_kept(envelope(message), ids))


def _part_ids_kept(data: dict[str, Any], ids: Sequence[str]) -> dict[str, Any]:
    """The envelope with `ids` added to its `part_ids` (each once, in the order taken)."""
    if not ids:
        return data
    return {**data, "part_ids": list(dict.fromkeys([*data.get("part_ids", []), *ids]))}


def _resumed(delivery: Delivery, error: ChannelError) -> Delivery:
    """The delivery to try again after `error`: past the parts it got taken, with their ids."""
    return replace(delivery, parts_sent=max(delivery.parts_sent, error.parts_sent),
                   part_ids=error.part_ids or delivery.part_ids)


def _with_parts(result: SendResult, earlier: tuple[str, ...]) -> SendResult:
    """`result` naming the parts earlier attempts got taken too (a template sent after them)."""
    missing = tuple(i for i in earlier if i not in result.part_ids)
    return replace(result, part_ids=(*missing, *result.part_ids)) if missing else result


def _every_part(provider_id: str, entities: list[dict[str, Any]] | None) -> list[str]:
    """A sent message's provider ids: its own and its earlier parts'."""
    return [provider_id, *envelope_in(entities).get("part_ids", [])]


def _envelope_of(outbound: OutboundMessage) -> dict[str, Any]:
    return {
        "purpose": outbound.purpose.value, "account_id": outbound.account_id,
        "in_reply_to": outbound.in_reply_to, "discusses_debt": outbound.discusses_debt,
        "recipient_verified": outbound.recipient_verified,
        "choices": [[c.label, c.value] for c in outbound.choices],
        "template": outbound.template, "template_vars": dict(outbound.template_vars),
        "sender": outbound.sender, "idempotency_key": outbound.idempotency_key,
        "language": outbound.language,
    }


def _apply_decision(message: Message, decision: GateDecision, now: datetime) -> None:
    message.delivery_status = decision.status
    message.error_code = None if decision.allowed else decision.reason[:32]
    if decision.allowed:
        # An outbound row's `processed_at` is when it was let go (then claimed) to be sent:
        # the time the frequency cap counts it at, not its creation (compliance.md A.1 item 2).
        message.processed_at = now
    data = envelope(message)
    if "initiated" in decision.details:  # whether the cap counts it (compliance.md B item 31)
        data["initiated"] = decision.details["initiated"]
    data["not_before"] = decision.not_before.isoformat() if decision.not_before else None
    # The provider's 131047/63016 outranks the gate's own view of the window.
    data["use_template"] = decision.use_template or bool(data.get("template_required"))
    set_envelope(message, data)


async def conversation_for(session: AsyncSession, key: ConversationKey, account_id: int | None,
                           now: datetime, *, conversation_id: int | None = None,
                           language: str | None = None) -> Conversation:
    """The conversation a message to `key` (about `account_id`) belongs to, opened when none
    is: the one named, else the account's latest on that address, else a new one."""
    if conversation_id is not None:
        found = await session.get(Conversation, conversation_id)
        if found is not None:
            return found
    # A number two debtors share (spouses, a family phone) gets one conversation per
    # account: a reminder for B must not land in A's, where a reply would be read as A's.
    query = select(Conversation).where(Conversation.channel == key.channel,
                                       Conversation.address == key.address)
    if account_id is not None:
        query = query.where(Conversation.account_id == account_id)
    found = await session.scalar(query.order_by(Conversation.id.desc()).limit(1))
    if found is not None:
        return found
    debtor_id, resolved_account = await resolve_address(session, key.channel, key.address)
    if account_id is not None:
        resolved_account = account_id
        debtor_id = await session.scalar(
            select(Account.debtor_id).where(Account.id == account_id)) or debtor_id
    created = Conversation(channel=key.channel, address=key.address, debtor_id=debtor_id,
                           account_id=resolved_account, language=language,
                           ownership=Ownership.BOT, started_at=now, last_message_at=now)
    session.add(created)
    await session.flush()
    return created


async def _superseded_by(session: AsyncSession, message: Message, data: dict[str, Any]
                         ) -> int | None:
    """A later bot reply of the conversation answering a later inbound message, if any.

    Replies of one turn answer the same inbound message and never supersede each other.
    """
    answered = data.get("in_reply_to")
    if answered is None:
        return None
    later = await session.execute(
        select(Message.id, Message.entities).where(
            Message.conversation_id == message.conversation_id,
            Message.direction == Direction.OUTBOUND, Message.id > message.id)
        .order_by(Message.id))
    for other_id, entities in later.all():
        other = envelope_in(entities)
        if (other.get("purpose") == Purpose.REPLY.value
                and (other.get("in_reply_to") or 0) > answered):
            return int(other_id)
    return None


def _keep_latest(latest: dict[int, Message], message: Message) -> None:
    """Keep `message` as its conversation's entry in `latest` unless a later one is there."""
    kept = latest.get(message.conversation_id)
    if kept is None or message.id > kept.id:
        latest[message.conversation_id] = message


def _is_reply(message: Message) -> bool:
    return envelope(message).get("purpose") == Purpose.REPLY.value


def _not_before(message: Message) -> datetime:
    value = envelope(message).get("not_before")
    return datetime.fromisoformat(value) if value else message.created_at


async def _rebuild(session: AsyncSession, message: Message) -> OutboundMessage:
    conversation = await session.get(Conversation, message.conversation_id)
    assert conversation is not None
    data = envelope(message)
    return OutboundMessage(
        key=ConversationKey(message.channel, conversation.address), text=message.text,
        purpose=Purpose(data.get("purpose") or message.intent or Purpose.REPLY.value),
        choices=tuple(Choice(label, value) for label, value in data.get("choices", [])),
        conversation_id=conversation.id, account_id=data.get("account_id"),
        in_reply_to=data.get("in_reply_to"), discusses_debt=bool(data.get("discusses_debt")),
        recipient_verified=bool(data.get("recipient_verified")),
        template=data.get("template"), template_vars=data.get("template_vars") or {},
        sender=data.get("sender") or message.sender,
        idempotency_key=data.get("idempotency_key"), language=data.get("language"),
    )


_CLAIM = (
    update(Message)
    .where(Message.id == bindparam("message_id"), Message.delivery_status == "pending")
    .values(delivery_status="queued", processed_at=bindparam("now", type_=UtcDateTime))
    .returning(Message.id, Message.conversation_id, Message.channel, Message.text,
               Message.entities,
               select(Conversation.address).where(Conversation.id == Message.conversation_id)
               .scalar_subquery().label("address"))
)
# A status callback may have moved the message on already; its status is then kept. The
# text becomes what the recipient got (`SendResult.text`: choices numbered into it), in the
# same statement: the record and the console show what the debtor answered to.
_SENT = (
    update(Message).where(Message.id == bindparam("message_id"))
    .values(provider_message_id=bindparam("provider_id"),
            delivery_status=case((Message.delivery_status.in_(("queued", "pending")),
                                  bindparam("status")), else_=Message.delivery_status),
            text=func.coalesce(bindparam("text", type_=Text()), Message.text))
    .returning(Message.conversation_id, Message.delivery_status, Message.sender)
)
# The sent state on the campaign contact (`delivery.mirror_to_contact`, as one statement); a
# contact with none yet is left to the sender, which copies the message's state after the send.
_SENT_TO_CONTACT = (
    update(PlannedContact)
    .where(PlannedContact.message_id == bindparam("sent_id"),
           PlannedContact.delivery_status.is_not(None),
           PlannedContact.delivery_status != bindparam("state"))
    .values(delivery_status=bindparam("state"))
)


def _delivery_of(row: Row[Any], form: str | None) -> Delivery:
    data = envelope_in(row.entities)
    return Delivery(
        key=ConversationKey(row.channel, row.address), text=row.text,
        idempotency_key=data.get("idempotency_key") or f"parley-msg-{row.id}",
        choices=tuple(Choice(label, value) for label, value in data.get("choices", [])),
        template=data.get("template"), template_vars=data.get("template_vars") or {},
        use_template=bool(data.get("use_template")), language=data.get("language"),
        unknown_since=datetime.fromisoformat(data["unknown_since"])
        if data.get("unknown_since") else None,
        address_form=form, parts_sent=int(data.get("parts_sent") or 0),
        part_ids=tuple(data.get("part_ids") or ()),
    )
