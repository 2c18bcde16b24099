"""The backend side of the engine: load a turn's facts and apply its effects in one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased, joinedload

from backend.db.engine import autocommit
from backend.db.models import (
    Account,
    AuditEvent,
    ContactPoint,
    Conversation,
    Debtor,
    Handoff,
    Installment,
    Message,
    PaymentPlan,
    Portfolio,
    Promise,
)
from backend.db.models.enums import (
    AccountStatus,
    Channel,
    Direction,
    Ownership,
    PlanStatus,
    PromiseStatus,
)
from backend.db.types import Money
from backend.services import audit, ledger, promise_moves
from backend.services.compliance.consent import record_opt_in, record_opt_out
from backend.services.compliance.facts import holds_other_channel
from backend.services.geo import debtor_today
from backend.services.identity_attempts import (
    IDENTITY_FAILED,
    IDENTITY_VERIFIED,
    failed_answers_count,
    failed_identity_answers,
)
from backend.services.identity_attempts import WINDOW as IDENTITY_WINDOW
from backend.services.inbox import PHONE_CHANNELS
from backend.services.outbox import VERIFICATION_EXPIRED
from backend.services.payments.links import PaymentLinks
from backend.services.policy import PolicyJudge, dialog_policy
from backend.services.policy.store import PolicyStore
from backend.workflow.lifecycle import lifecycle_rules
from bot import effects as fx
from bot.clock import Clock
from bot.facts import Facts, Identity, Narrowed, PendingPromise
from bot.messages import ConversationKey, OutboundMessage
from bot.ports import Outbox, OutboxDecision, TurnContext
from nlu.types import Parse

HandoffOpener = Callable[..., Awaitable[Any]]


@dataclass
class TurnDeps:
    """What the SQL turn store needs (built once in `install_conversations`)."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    policies: PolicyStore
    links: PaymentLinks
    outbox: Callable[[], Outbox]
    open_handoff: HandoffOpener | None = None  # HandoffService.open_handoff when installed
    reopen: HandoffOpener | None = None  # HandoffService.reopen_on_debtor_message
    release_hold: HandoffOpener | None = None  # HandoffService.release_opt_out_hold


class SqlTurnStore:
    """Implements bot.ports.TurnStore over SQLAlchemy."""

    def __init__(self, deps: TurnDeps) -> None:
        self.deps = deps

    async def locate(self, message_id: int) -> int | None:
        async with autocommit(self.deps.sessions) as conn:
            found: int | None = await conn.scalar(
                select(Message.conversation_id).where(Message.id == message_id))
            return found

    @asynccontextmanager
    async def open(self, message_id: int) -> AsyncIterator[SqlTurnUnit]:
        async with self.deps.sessions() as session, session.begin():
            yield await self._unit(session, message_id)

    async def _unit(self, session: AsyncSession, message_id: int) -> SqlTurnUnit:
        since = self.deps.clock.now() - IDENTITY_WINDOW
        row = (await session.execute(_TURN_ROWS, {"message_id": message_id, "since": since})
               ).first()
        if row is None:
            raise LookupError(f"no message {message_id}")
        (message, conversation, account, contact_id, opted_out_at, wrong_party, same_number,
         plan, settlement_left, settlement_due, promised, holders, failures, dropped) = row
        if self.deps.reopen is not None and conversation.ownership == Ownership.RESOLVED:
            await self.deps.reopen(session, conversation.id, now=self.deps.clock.now())
            await session.refresh(conversation)
        contact = _contact(contact_id, opted_out_at is not None or bool(same_number),
                           bool(wrong_party))
        agreed = _Agreed(bool(plan), settlement_left, settlement_due, promised or Decimal(0),
                         await _pending_promises(session, account) if promised else ())
        facts = self._facts(account, contact, conversation, message.created_at, agreed,
                            int(failures or 0))
        if facts is not None and dropped:
            facts = replace(facts, replies_dropped=True)
        if facts is not None and account is not None and holders > 1:
            facts = replace(facts, holders=await self._other_holders(
                session, conversation, account, message.created_at),
                narrowed=await _narrowed(session, conversation.id))
        context = TurnContext(
            message_id=message.id, conversation_id=conversation.id,
            key=ConversationKey(conversation.channel, conversation.address), text=message.text,
            received_at=message.created_at, account_id=account.id if account else None,
            facts=facts, ownership=conversation.ownership,
            timezone=(account.debtor.timezone or None) if account else None,
            processed=message.processed_at is not None, choice_value=message.choice_value,
        )
        return SqlTurnUnit(session, self.deps, context, message, conversation, account)

    def _facts(self, account: Account | None, contact: _Contact | None,
               conversation: Conversation, at: datetime, agreed: _Agreed,
               identity_failures: int) -> Facts | None:
        if account is None:
            return None
        debtor = account.debtor
        today = debtor_today(at, debtor.timezone)
        policy, unreadable = self.deps.policies.for_turn(account.portfolio)
        return Facts(
            account_id=account.id, creditor=account.portfolio.creditor.name,
            reference=account.external_ref, currency=account.currency,
            balance=account.current_balance, days_past_due=account.days_past_due(today),
            today=today, identity=Identity(debtor.date_of_birth, debtor.postal_code,
                                           account.external_ref),
            preferred_language=debtor.preferred_language, stop_states=tuple(account.stop_states),
            hardship=account.hardship, status=account.status, channel=conversation.channel,
            contact_opted_out=bool(contact and contact.opted_out),
            contact_wrong_party=bool(contact and contact.wrong_party),
            active_plan=agreed.active_plan, settlement_left=agreed.settlement_left,
            settlement_due=agreed.settlement_due,
            promised=agreed.promised, pending_promises=agreed.pending_promises,
            identity_failures=identity_failures, policy=dialog_policy(policy),
            judge=PolicyJudge(policy, account.currency), policy_unreadable=unreadable,
            debtor_id=account.debtor_id,
        )

    async def _other_holders(self, session: AsyncSession, conversation: Conversation,
                             account: Account, at: datetime) -> tuple[Facts, ...]:
        """The facts of each other debtor holding the address, on their most pressing active
        account (the one `inbox.resolve_address` would link); read only on a shared number."""
        accounts = (await session.scalars(
            select(Account)
            .options(joinedload(Account.debtor),
                     joinedload(Account.portfolio).joinedload(Portfolio.creditor))
            .where(Account.status == AccountStatus.ACTIVE,
                   Account.debtor_id != account.debtor_id,
                   Account.debtor_id.in_(_debtors_at(conversation)))
            .order_by(Account.debtor_id, Account.current_balance.desc(), Account.id)
        )).unique().all()
        pressing: dict[int, Account] = {}
        for held in accounts:
            pressing.setdefault(held.debtor_id, held)
        now = self.deps.clock.now()
        found = []
        for held in pressing.values():
            failures = await failed_identity_answers(session, held.id, now)
            found.append(self._facts(held, None, conversation, at, _NOTHING_AGREED, failures))
        return tuple(f for f in found if f is not None)


def _first_contact(column: Any) -> Any:
    """`column` of the address's contact point that speaks for it (an opted-out one first)."""
    return (select(column)
            .where(ContactPoint.channel == Conversation.channel,
                   ContactPoint.address == Conversation.address)
            .order_by(ContactPoint.opted_out_at.is_(None), ContactPoint.id).limit(1)
            .correlate(Conversation).scalar_subquery())


_ACTIVE_PLAN = (select(PaymentPlan.id)
                .where(PaymentPlan.account_id == Account.id,
                       PaymentPlan.status == PlanStatus.ACTIVE)
                .limit(1).correlate(Account).scalar_subquery())
# What is left to pay of an agreed settlement (NULL without one): paying in full means that.
_SETTLEMENT_LEFT = (select(func.sum(Installment.amount - Installment.paid_amount, type_=Money()))
                    .join(PaymentPlan, PaymentPlan.id == Installment.plan_id)
                    .where(PaymentPlan.account_id == Account.id,
                           PaymentPlan.status == PlanStatus.ACTIVE,
                           PaymentPlan.is_settlement.is_(True))
                    .correlate(Account).scalar_subquery())
# The agreed settlement's deadline: the day its last unpaid part is due (NULL without one).
_SETTLEMENT_DUE = (select(func.max(Installment.due_date))
                   .join(PaymentPlan, PaymentPlan.id == Installment.plan_id)
                   .where(PaymentPlan.account_id == Account.id,
                          PaymentPlan.status == PlanStatus.ACTIVE,
                          PaymentPlan.is_settlement.is_(True),
                          Installment.amount > Installment.paid_amount)
                   .correlate(Account).scalar_subquery())
# What pending promises still cover of the balance (NULL without any).
_PROMISED = (select(func.sum(Promise.amount - Promise.paid_amount, type_=Money()))
             .where(Promise.account_id == Account.id, Promise.status == PromiseStatus.PENDING)
             .correlate(Account).scalar_subquery())

_PHONES = tuple(PHONE_CHANNELS)
_OTHER_PHONE_POINT = aliased(ContactPoint)
# The same number's opt-out on its other phone channel, which holds this one too until this
# channel says START (compliance.md A.3 item 12; compliance.facts reads it at send time).
_SAME_NUMBER_OPTED_OUT = (
    exists().where(_OTHER_PHONE_POINT.address == Conversation.address,
                   _OTHER_PHONE_POINT.channel.in_(_PHONES), Conversation.channel.in_(_PHONES),
                   _OTHER_PHONE_POINT.channel != Conversation.channel,
                   _OTHER_PHONE_POINT.opted_out_at.is_not(None),
                   holds_other_channel(_OTHER_PHONE_POINT))
    .correlate(Conversation)
)
_HOLDING_POINT = aliased(ContactPoint)
_HELD_ACCOUNT = aliased(Account)
# How many debtors with an active account hold the conversation's address (a phone on SMS and
# WhatsApp alike, as `inbox.resolve_address` links it): more than one is a shared number.
_HOLDERS = (
    select(func.count(func.distinct(_HOLDING_POINT.debtor_id)))
    .where(_HOLDING_POINT.address == Conversation.address,
           (_HOLDING_POINT.channel == Conversation.channel)
           | (_HOLDING_POINT.channel.in_(_PHONES) & Conversation.channel.in_(_PHONES)),
           exists().where(_HELD_ACCOUNT.debtor_id == _HOLDING_POINT.debtor_id,
                          _HELD_ACCOUNT.status == AccountStatus.ACTIVE))
    .correlate(Conversation).scalar_subquery()
)


def _debtors_at(conversation: Conversation) -> Any:
    """The debtors holding `conversation`'s address, as `_HOLDERS` counts them."""
    channels = _PHONES if conversation.channel in _PHONES else (conversation.channel,)
    return select(ContactPoint.debtor_id).where(ContactPoint.channel.in_(channels),
                                                ContactPoint.address == conversation.address)


IDENTITY_NARROWED = "identity.narrowed"


async def _narrowed(session: AsyncSession, conversation_id: int) -> Narrowed | None:
    """The round's narrowing of a shared number's holders: the conversation's latest identity
    event when it is one (a wrong answer or a verification since ends the round)."""
    row = (await session.execute(
        select(AuditEvent.action, AuditEvent.data)
        .where(AuditEvent.subject_type == "conversation",
               AuditEvent.subject_id == str(conversation_id),
               AuditEvent.action.in_((IDENTITY_NARROWED, IDENTITY_FAILED, IDENTITY_VERIFIED)))
        .order_by(AuditEvent.id.desc()).limit(1)
    )).first()
    if row is None or row[0] != IDENTITY_NARROWED:
        return None
    return Narrowed(int(row[1]["after_factor"]), tuple(int(a) for a in row[1]["account_ids"]))


_EARLIER = aliased(Message)
_REPLY = aliased(Message)
# Whether replies since the debtor's previous message were dropped because their verification
# ran out before they could go (outbox.VERIFICATION_EXPIRED): the dialog answers that request
# again once the debtor verifies again.
_REPLIES_DROPPED = exists().where(
    _REPLY.conversation_id == Message.conversation_id,
    _REPLY.direction == Direction.OUTBOUND, _REPLY.error_code == VERIFICATION_EXPIRED,
    _REPLY.id < Message.id,
    _REPLY.id > func.coalesce(
        select(func.max(_EARLIER.id))
        .where(_EARLIER.conversation_id == Message.conversation_id,
               _EARLIER.direction == Direction.INBOUND, _EARLIER.id < Message.id)
        .correlate_except(_EARLIER).scalar_subquery(), 0),
).correlate_except(_REPLY)

# The account's recent wrong identity answers (`identity_attempts`), counted since `since`.
_IDENTITY_FAILURES = (failed_answers_count(Account.id, bindparam("since"))
                      .correlate(Account).scalar_subquery())

# A turn's message, conversation, account (with debtor, portfolio and creditor), contact flags
# (the same number's other phone channel's opt-out among them), whether a plan is active, how
# many debtors hold the address and the account's recent wrong identity answers, in one round
# trip; built once, so SQLAlchemy caches its compiled form.
_TURN_ROWS = (
    select(Message, Conversation, Account, _first_contact(ContactPoint.id),
           _first_contact(ContactPoint.opted_out_at), _first_contact(ContactPoint.wrong_party),
           _SAME_NUMBER_OPTED_OUT, _ACTIVE_PLAN, _SETTLEMENT_LEFT, _SETTLEMENT_DUE, _PROMISED,
           _HOLDERS, _IDENTITY_FAILURES, _REPLIES_DROPPED)
    .join(Conversation, Conversation.id == Message.conversation_id)
    .outerjoin(Account, Account.id == Conversation.account_id)
    .options(joinedload(Account.debtor),
             joinedload(Account.portfolio).joinedload(Portfolio.creditor))
    .where(Message.id == bindparam("message_id"))
)


# Facts about the person, not one debt: held on every account of that consumer
# (compliance research item 27: a bankruptcy stays every act to collect).
PERSON_WIDE = frozenset({"bankruptcy", "deceased"})


@dataclass(frozen=True)
class _Agreed:
    """What the debtor already agreed to: a plan, a settlement's rest, pending promises."""

    active_plan: bool
    settlement_left: Decimal | None
    settlement_due: date | None
    promised: Decimal
    pending_promises: tuple[PendingPromise, ...]


_NOTHING_AGREED = _Agreed(False, None, None, Decimal(0), ())


async def _pending_promises(session: AsyncSession, account: Account | None
                            ) -> tuple[PendingPromise, ...]:
    if account is None:
        return ()
    rows = (await session.execute(select(Promise.id, Promise.due_date, Promise.amount).where(
        Promise.account_id == account.id, Promise.status == PromiseStatus.PENDING))).all()
    moved = await promise_moves.moves_by_promise(session, account.id) if rows else {}
    return tuple(PendingPromise(due, amount, moved.get(ident, 0)) for ident, due, amount in rows)


@dataclass(frozen=True)
class _Contact:
    opted_out: bool
    wrong_party: bool


def _contact(contact_id: int | None, opted_out: bool, wrong_party: bool) -> _Contact | None:
    """The address's flags; a number held by its other channel's opt-out is opted out even
    before this channel has a contact point of its own."""
    if contact_id is None and not opted_out:
        return None
    return _Contact(opted_out, wrong_party)


class SqlTurnUnit:
    """One turn's transaction (bot.ports.TurnUnit)."""

    def __init__(self, session: AsyncSession, deps: TurnDeps, context: TurnContext,
                 message: Message, conversation: Conversation, account: Account | None) -> None:
        self.session, self.deps, self.context = session, deps, context
        self.message, self.conversation, self.account = message, conversation, account
        self._parse: Parse | None = None
        self._replies: dict[int, str] = {}  # stored reply id -> its text, for the turn event

    @property
    def origin(self) -> ledger.Origin:
        """Where this turn's records come from."""
        return ledger.Origin(self.deps.clock.now(), "bot", self.conversation.channel,
                             self.conversation.id)

    async def record_parse(self, parse: Parse | None) -> None:
        # Kept until `finish`, so the inbound row is written once per turn, not twice.
        self._parse = parse

    async def apply(self, effects: Sequence[fx.Effect]) -> dict[str, Any]:
        results: dict[str, Any] = {}
        for effect in effects:
            results.update(await self._apply_one(effect) or {})
        return results

    async def _apply_one(self, effect: fx.Effect) -> dict[str, Any] | None:
        if isinstance(effect, fx.Handoff):
            await self._handoff(effect)
        elif isinstance(effect, fx.RecordOptOut):
            await self._opt_out(effect)
        elif isinstance(effect, fx.RecordOptIn):
            await record_opt_in(self.session, self.context.key, effect.keyword, self.origin.now)
            if self.deps.release_hold is not None:  # a hold an older bot opened for the opt-out
                await self.deps.release_hold(self.session, self.conversation.id,
                                             now=self.origin.now)
        elif isinstance(effect, fx.MarkWrongParty) and self.conversation.channel == Channel.WEB:
            # The portal's address is the account, not a person: the wrong person got the link
            # through an address a person must find and mark (the reminders keep using it).
            await self._handoff(fx.Handoff(
                "wrong_party_portal", priority=1,
                note="someone who says they are not the debtor opened the portal link: "
                     "find the address that carried it and mark it wrong party"))
        elif isinstance(effect, fx.MarkWrongParty):
            await ledger.mark_wrong_party(self.session, self.conversation.channel,
                                          self.conversation.address, self.origin)
        elif isinstance(effect, fx.SetContactHours):
            await self._contact_hours(effect)
        elif isinstance(effect, fx.Relink):
            await self._relink(effect)
        elif isinstance(effect, fx.NarrowHolders):
            await audit.record(self.session, occurred_at=self.origin.now, actor="bot",
                               action=IDENTITY_NARROWED, subject_type="conversation",
                               subject_id=self.conversation.id, data={
                                   "after_factor": effect.after_factor,
                                   "account_ids": list(effect.account_ids)})
        elif isinstance(effect, fx.ChargeFailedAnswer):
            await audit.record(self.session, occurred_at=self.origin.now, actor="bot",
                               action=IDENTITY_FAILED, subject_type="account",
                               subject_id=effect.account_id,
                               data={"conversation_id": self.conversation.id})
        elif isinstance(effect, fx.Audit):
            await audit.record(self.session, occurred_at=self.origin.now, actor="bot",
                               action=effect.action, subject_type="conversation",
                               subject_id=self.conversation.id, data={"detail": effect.detail})
        elif self.account is not None:
            return await self._account_effect(effect, self.account)
        return None

    async def _relink(self, effect: fx.Relink) -> None:
        """Give the conversation to the debtor whose answers matched (audited with both
        debtors' ids, nothing personal); the rest of the turn speaks for their account."""
        conversation = self.conversation
        await audit.record(self.session, occurred_at=self.origin.now, actor="bot",
                           action="conversation.relinked", subject_type="conversation",
                           subject_id=conversation.id, data={
                               "from_debtor_id": conversation.debtor_id,
                               "to_debtor_id": effect.debtor_id,
                               "from_account_id": conversation.account_id,
                               "to_account_id": effect.account_id})
        conversation.debtor_id, conversation.account_id = effect.debtor_id, effect.account_id
        self.account = await self.session.get(Account, effect.account_id, options=[
            joinedload(Account.debtor),
            joinedload(Account.portfolio).joinedload(Portfolio.creditor)])
        held = self.context.facts.holders if self.context.facts else ()
        facts = next((h for h in held if h.account_id == effect.account_id), None)
        timezone = self.account.debtor.timezone if self.account else None
        self.context = replace(self.context, account_id=effect.account_id, facts=facts,
                               timezone=timezone or None)

    async def _persons_other_accounts(self, account: Account) -> Sequence[Account]:
        """The other accounts of the person writing: the same debtor, or a debtor holding this
        conversation's address (the importer keeps one debtor per account row)."""
        at_address = select(ContactPoint.debtor_id).where(
            ContactPoint.channel == self.conversation.channel,
            ContactPoint.address == self.conversation.address)
        return (await self.session.scalars(select(Account).where(
            Account.id != account.id,
            (Account.debtor_id == account.debtor_id) | Account.debtor_id.in_(at_address)))).all()

    async def _account_effect(self, effect: fx.Effect, account: Account) -> dict[str, Any] | None:
        origin = self.origin
        if isinstance(effect, fx.IssuePaymentLink):
            return {"url": await self._payment_link(effect, account)}
        if isinstance(effect, fx.RecordPromise):
            await ledger.record_promise(self.session, account, effect.amount, effect.due, origin,
                                        effect.kind)
        elif isinstance(effect, fx.MovePromise):
            await promise_moves.move_promise(self.session, account, effect.amount,
                                             effect.old_due, effect.new_due, origin)
        elif isinstance(effect, fx.RecordPlan):
            await ledger.record_plan(self.session, account, effect.offer, origin)
        elif isinstance(effect, fx.RecordDispute):
            await ledger.record_dispute(self.session, account, effect.reason, origin)
        elif isinstance(effect, fx.SetStopState):
            await ledger.set_stop_state(self.session, account, effect.state, effect.details,
                                        origin)
            if effect.state in PERSON_WIDE:
                for other in await self._persons_other_accounts(account):
                    await ledger.set_stop_state(self.session, other, effect.state,
                                                effect.details, origin)
        elif isinstance(effect, fx.SetHardship):
            await ledger.set_stop_state(self.session, account, "hardship", effect.details,
                                        origin)
        elif isinstance(effect, fx.RecordPaymentClaim):
            await audit.record(self.session, occurred_at=origin.now, actor="bot",
                               action="payment.claimed", subject_type="account",
                               subject_id=account.id, data={
                                   "amount": effect.amount, "paid_on": effect.paid_on,
                                   "reference": effect.reference,
                                   "conversation_id": self.conversation.id})
        return None

    async def _payment_link(self, effect: fx.IssuePaymentLink, account: Account) -> str:
        """The link's URL; one given for a due date opens until that day is over in the
        debtor's calendar plus the lifecycle's grace days."""
        grace = None
        if effect.due is not None:
            life = await lifecycle_rules(self.session)
            # The longer grace: the link never closes while its payment would still be on time.
            grace = max(life.promise_grace_days, life.installment_grace_days)
        # The link keeps the channel it went out on, so its payment is recorded there.
        return self.deps.links.url_for(
            account.id,
            effect.amount,
            channel=self.conversation.channel,
            due=effect.due,
            timezone=self.context.timezone,
            grace_days=grace,
        )

    async def _contact_hours(self, effect: fx.SetContactHours) -> None:
        """Store the hours on every debtor record of the person writing (12 CFR 1006.6(b)(1):
        inconvenient until they say otherwise), with an audit event naming the message."""
        at_address = select(ContactPoint.debtor_id).where(
            ContactPoint.channel == self.conversation.channel,
            ContactPoint.address == self.conversation.address)
        known = {self.conversation.debtor_id, self.account.debtor_id if self.account else None}
        debtors = (await self.session.scalars(select(Debtor).where(
            Debtor.id.in_({d for d in known if d is not None}) | Debtor.id.in_(at_address)
        ))).all()
        hours = {"not_before": _iso(effect.not_before), "not_after": _iso(effect.not_after)}
        for debtor in debtors:
            debtor.contact_not_before = effect.not_before
            debtor.contact_not_after = effect.not_after
            await audit.record(self.session, occurred_at=self.origin.now, actor="bot",
                               action="debtor.inconvenient_hours", subject_type="debtor",
                               subject_id=debtor.id, data={
                                   **hours, "message_id": self.message.id,
                                   "conversation_id": self.conversation.id,
                                   "channel": self.conversation.channel})

    async def _opt_out(self, effect: fx.RecordOptOut) -> None:
        key = self.context.key
        await record_opt_out(self.session, key, effect.reason, self.origin.now)
        debtor_id = self.conversation.debtor_id
        if debtor_id is None:
            return
        if effect.all_channels:
            await ledger.opt_out_everywhere(self.session, debtor_id, effect.reason, self.origin)
        elif effect.channels:
            await ledger.opt_out_everywhere(self.session, debtor_id, effect.reason, self.origin,
                                            channels=effect.channels)

    async def _handoff(self, effect: fx.Handoff) -> None:
        now = self.origin.now
        if self.deps.open_handoff is not None:
            await self.deps.open_handoff(
                self.session, self.conversation.id, effect.reason, now=now,
                priority=effect.priority, error_id=effect.error_id, note=effect.note,
                queue=effect.queue)
            return
        if self.conversation.ownership in (Ownership.QUEUED, Ownership.AGENT):
            return
        self.conversation.ownership = Ownership.QUEUED
        self.session.add(Handoff(
            conversation_id=self.conversation.id, reason=effect.reason,
            queue=effect.queue or "general", priority=effect.priority,
            status=Ownership.QUEUED, note=effect.note, error_id=effect.error_id,
            created_at=now))

    async def submit(self, outbound: OutboundMessage) -> OutboxDecision:
        decision = await self.deps.outbox().submit(self.session, outbound)
        if decision.message_id is not None:
            self._replies[decision.message_id] = outbound.text
        return decision

    async def finish(self, summary: Mapping[str, Any]) -> None:
        now = self.origin.now
        if self._parse is not None:
            _store_parse(self.message, self.conversation, self._parse)
        self.message.processed_at = now
        # Digests of the replies this turn stored, from memory: `audit verify --messages` finds
        # one edited or deleted later; the event itself holds no text. Not the debtor's own
        # words: an unkeyed digest of a date of birth or a ZIP is undone by trying them all,
        # and the audit log must not become a copy of identity answers.
        digests = {str(mid): audit.text_digest(text) for mid, text in self._replies.items()}
        await audit.record(self.session, occurred_at=now, actor="bot", action="turn",
                           subject_type="message", subject_id=self.message.id,
                           data={"conversation_id": self.conversation.id, **summary,
                                 "texts": digests})


def _iso(at: time | None) -> str | None:
    return at.strftime("%H:%M") if at is not None else None


def _store_parse(message: Message, conversation: Conversation, parse: Parse) -> None:
    message.intent = parse.intent.name
    message.confidence = parse.intent.confidence
    message.entities = [{"entity": e.entity, "value": e.value} for e in parse.entities]
    if parse.language and conversation.language != parse.language:
        conversation.language = parse.language
