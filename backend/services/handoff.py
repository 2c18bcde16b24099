"""Who owns a conversation: the one state machine for bot, queued, agent and resolved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, Conversation, ConversationNote, Handoff
from backend.db.models.enums import Ownership, StopState
from backend.services import audit
from backend.services.events import Event, EventBus, publish_after_commit
from backend.services.queues import Queue, QueueConfig

BOT, QUEUED, AGENT, RESOLVED = (o.value for o in Ownership)
RETURNED = "returned"  # Handoff.status when an agent gave the conversation back to the bot
ACTIVE_STATUSES = (QUEUED, AGENT)

# action -> {ownership before: ownership after}; anything else is an illegal transition.
TRANSITIONS: dict[str, dict[str, str]] = {
    "open": {BOT: QUEUED, RESOLVED: QUEUED},
    "claim": {QUEUED: AGENT},
    "return": {QUEUED: BOT, AGENT: BOT},
    "resolve": {QUEUED: RESOLVED, AGENT: RESOLVED},
    "reopen": {RESOLVED: BOT},
}
# Stop-states under which a debtor writing after resolution goes to a person, not the bot.
REOPEN_TO_HUMAN = (
    StopState.ATTORNEY, StopState.BANKRUPTCY, StopState.DECEASED, StopState.CEASE,
    StopState.DISPUTE,
)

# What the bot opens when an address it had opted out wrote again ("hello" handed to the
# legal queue): the debtor's own STOP needed no person, and their START ends it. The note is
# the hold alone (older bots) or the debtor's words then "; opted_out".
OPT_OUT_HOLD_REASON, OPT_OUT_HOLD_NOTE = "inbound_on_hold", "opted_out"


def is_opt_out_hold(handoff: Handoff) -> bool:
    """The handoff only holds an opted-out address that wrote again."""
    note = handoff.note or ""
    return handoff.reason == OPT_OUT_HOLD_REASON and (
        note == OPT_OUT_HOLD_NOTE or note.endswith(f"; {OPT_OUT_HOLD_NOTE}"))


class HandoffError(Exception):
    """A handoff operation that cannot be done."""


class ConversationNotFound(HandoffError):
    """No conversation with that id."""


class IllegalTransition(HandoffError):
    """The conversation is not in a state that allows the action."""

    def __init__(self, conversation_id: int, action: str, current: str) -> None:
        super().__init__(f"cannot {action} conversation {conversation_id} while it is {current}")
        self.conversation_id, self.action, self.current = conversation_id, action, current


class NotYourConversation(HandoffError):
    """Another agent owns the conversation (or only a supervisor may act on a queued one)."""


class NoteRequired(HandoffError):
    """Giving a conversation back to the bot needs a note of what was agreed."""


@dataclass(frozen=True)
class Actor:
    """Who causes a transition: the bot, the system, or a console user."""

    kind: str
    id: int | None = None
    supervisor: bool = False

    def __str__(self) -> str:
        return self.kind if self.id is None else f"{self.kind}:{self.id}"


BOT_ACTOR = Actor("bot")
SYSTEM_ACTOR = Actor("system")


def agent_actor(agent_id: int, *, supervisor: bool = False) -> Actor:
    """A console user as the actor of a transition."""
    return Actor("agent", agent_id, supervisor)


@dataclass(frozen=True)
class Transition:
    """What an operation did; `changed` is False when it was already in the wanted state."""

    conversation_id: int
    action: str
    before: str
    after: str
    handoff_id: int | None = None
    queue: str | None = None
    changed: bool = True


def bot_may_speak(conversation: Conversation) -> bool:
    """False while the conversation waits for a person or a person owns it."""
    return conversation.ownership not in ACTIVE_STATUSES


class HandoffService:
    """Opens, claims, returns, resolves and reopens handoffs; audited, announced after commit."""

    def __init__(self, queues: QueueConfig, events: EventBus | None = None) -> None:
        self.queues = queues
        self.events = events

    async def open_handoff(
        self, session: AsyncSession, conversation_id: int, reason: str, *, now: datetime,
        priority: int | None = None, error_id: str | None = None, note: str | None = None,
        queue: str | None = None, actor: Actor = BOT_ACTOR,
    ) -> Transition:
        """Queue the conversation for a person; a second call while it waits only escalates.

        The queue comes from the routing rules for `reason` unless `queue` names one.
        `changed` is False when it was already queued or agent-owned: the engine sends its one
        acknowledgement only when `changed` is True.
        """
        conversation = await self._conversation(session, conversation_id)
        target = self.queues.get(queue) if queue else self.queues.route(reason)
        if conversation.ownership in ACTIVE_STATUSES:
            return await self._escalate(session, conversation, reason, priority, now, actor,
                                        target)
        before = await self._move(session, conversation, "open", agent_id=None)
        handoff = Handoff(
            conversation_id=conversation.id, reason=reason, queue=target.name,
            priority=max(target.priority, priority or 0), status=QUEUED, note=note,
            error_id=error_id, created_at=now,
        )
        session.add(handoff)
        await session.flush()
        return await self._record(
            session, conversation, "opened", before, handoff, now, actor,
            reason=reason, priority=handoff.priority,
        )

    async def claim(
        self, session: AsyncSession, conversation_id: int, *, agent_id: int, now: datetime
    ) -> Transition:
        """A named agent takes a queued conversation (claiming one's own again changes nothing)."""
        conversation = await self._conversation(session, conversation_id)
        if conversation.ownership == AGENT and conversation.agent_id == agent_id:
            return Transition(conversation.id, "claimed", AGENT, AGENT, changed=False)
        before = await self._move(session, conversation, "claim", agent_id=agent_id)
        handoff = await self._active(session, conversation.id)
        handoff.status, handoff.agent_id, handoff.claimed_at = AGENT, agent_id, now
        return await self._record(
            session, conversation, "claimed", before, handoff, now, agent_actor(agent_id)
        )

    async def return_to_bot(
        self, session: AsyncSession, conversation_id: int, *, note: str, actor: Actor,
        now: datetime,
    ) -> Transition:
        """Give the conversation back to the bot with a note of what was agreed."""
        if not note.strip():
            raise NoteRequired("say what was agreed before giving the conversation back")
        conversation = await self._conversation(session, conversation_id)
        self._check_actor(conversation, actor)
        before = await self._move(session, conversation, "return", agent_id=None)
        handoff = await self._close(session, conversation.id, RETURNED, now)
        note_id = await self._note(session, conversation.id, actor, "handback", note, now)
        return await self._record(
            session, conversation, "returned", before, handoff, now, actor, note_id=note_id
        )

    async def resolve(
        self, session: AsyncSession, conversation_id: int, *, actor: Actor, now: datetime,
        note: str | None = None,
    ) -> Transition:
        """Close the handoff; the next debtor message reopens the conversation."""
        conversation = await self._conversation(session, conversation_id)
        self._check_actor(conversation, actor)
        before = await self._move(session, conversation, "resolve", agent_id=conversation.agent_id)
        handoff = await self._close(session, conversation.id, RESOLVED, now)
        note_id = None
        if note and note.strip():
            note_id = await self._note(session, conversation.id, actor, "resolution", note, now)
        return await self._record(
            session, conversation, "resolved", before, handoff, now, actor, note_id=note_id
        )

    async def release_opt_out_hold(
        self, session: AsyncSession, conversation_id: int, *, now: datetime,
        actor: Actor = BOT_ACTOR,
    ) -> Transition:
        """The debtor opted back in: a conversation queued only because its opted-out address
        wrote again goes back to the bot. A handoff for anything else, one a person claimed,
        or an account a stop-state keeps from the bot stays as it is."""
        conversation = await self._conversation(session, conversation_id)
        handoff = await self.current_handoff(session, conversation.id)
        unchanged = Transition(conversation.id, "returned", conversation.ownership,
                               conversation.ownership, changed=False)
        if (conversation.ownership != QUEUED or handoff is None
                or not is_opt_out_hold(handoff)
                or await self._human_stop_state(session, conversation) is not None):
            return unchanged
        before = await self._move(session, conversation, "return", agent_id=None)
        handoff.status, handoff.closed_at = RETURNED, now
        return await self._record(session, conversation, "returned", before, handoff, now,
                                  actor, cause="opted_in")

    async def reopen_on_debtor_message(
        self, session: AsyncSession, conversation_id: int, *, now: datetime
    ) -> Transition:
        """A debtor wrote: a resolved conversation goes back to the bot, or to a person when a
        stop-state on the account says the bot must not answer. Call before `bot_may_speak`."""
        conversation = await self._conversation(session, conversation_id)
        if conversation.ownership != RESOLVED:
            return Transition(
                conversation.id, "reopened", conversation.ownership, conversation.ownership,
                changed=False,
            )
        stop = await self._human_stop_state(session, conversation)
        if stop is not None:
            return await self.open_handoff(
                session, conversation.id, stop, now=now, actor=SYSTEM_ACTOR,
                note="debtor wrote after resolution while a stop-state is set",
            )
        before = await self._move(session, conversation, "reopen", agent_id=None)
        return await self._record(session, conversation, "reopened", before, None, now,
                                  SYSTEM_ACTOR)

    async def current_handoff(
        self, session: AsyncSession, conversation_id: int
    ) -> Handoff | None:
        """The handoff that is waiting or owned, if any."""
        return await session.scalar(
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id,
                   Handoff.status.in_(ACTIVE_STATUSES))
            .order_by(Handoff.id.desc())
            .limit(1)
        )

    async def _conversation(self, session: AsyncSession, conversation_id: int) -> Conversation:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConversationNotFound(f"no conversation {conversation_id}")
        return conversation

    async def _move(
        self, session: AsyncSession, conversation: Conversation, action: str,
        agent_id: int | None,
    ) -> str:
        """Compare-and-set the ownership, so two agents cannot both win a claim."""
        before = conversation.ownership
        after = TRANSITIONS[action].get(before)
        if after is None:
            raise IllegalTransition(conversation.id, action, before)
        result = await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation.id, Conversation.ownership == before)
            .values(ownership=after, agent_id=agent_id)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            await session.refresh(conversation)
            raise IllegalTransition(conversation.id, action, conversation.ownership)
        return before

    def _check_actor(self, conversation: Conversation, actor: Actor) -> None:
        if actor.kind != "agent" or actor.supervisor:
            return
        if conversation.ownership == QUEUED:
            raise NotYourConversation("claim the conversation first (or ask a supervisor)")
        if conversation.ownership == AGENT and conversation.agent_id != actor.id:
            raise NotYourConversation("another agent owns this conversation")

    async def _active(self, session: AsyncSession, conversation_id: int) -> Handoff:
        handoff = await self.current_handoff(session, conversation_id)
        if handoff is None:
            raise HandoffError(f"conversation {conversation_id} has no open handoff row")
        return handoff

    async def _close(
        self, session: AsyncSession, conversation_id: int, status: str, now: datetime
    ) -> Handoff | None:
        handoff = await self.current_handoff(session, conversation_id)
        if handoff is not None:
            handoff.status, handoff.closed_at = status, now
        return handoff

    async def _escalate(
        self, session: AsyncSession, conversation: Conversation, reason: str,
        priority: int | None, now: datetime, actor: Actor, target: Queue,
    ) -> Transition:
        """A more urgent reason raises the open handoff's priority; one still waiting moves
        to the reason's queue too (a lawyer named in the queue goes to the legal team), a
        claimed one stays with its agent."""
        handoff = await self._active(session, conversation.id)
        wanted = max(target.priority, priority or 0)
        if wanted <= handoff.priority:
            return Transition(conversation.id, "opened", conversation.ownership,
                              conversation.ownership, handoff.id, handoff.queue, changed=False)
        handoff.priority = wanted
        data: dict[str, Any] = {"handoff_id": handoff.id, "reason": reason, "priority": wanted}
        if conversation.ownership == QUEUED and handoff.queue != target.name:
            data["from_queue"], handoff.queue = handoff.queue, target.name
            data["queue"] = target.name
        await self._audit(session, conversation, "escalated", now, actor, data)
        self._announce(session, "escalated", conversation, handoff, {"priority": wanted})
        return Transition(conversation.id, "opened", conversation.ownership,
                          conversation.ownership, handoff.id, handoff.queue, changed=False)

    async def _note(
        self, session: AsyncSession, conversation_id: int, actor: Actor, kind: str, text: str,
        now: datetime,
    ) -> int:
        note = ConversationNote(
            conversation_id=conversation_id, agent_id=actor.id if actor.kind == "agent" else None,
            kind=kind, text=text.strip(), created_at=now,
        )
        session.add(note)
        await session.flush()
        return note.id

    async def _record(
        self, session: AsyncSession, conversation: Conversation, action: str, before: str,
        handoff: Handoff | None, now: datetime, actor: Actor, **extra: Any,
    ) -> Transition:
        data = {
            "from": before, "to": conversation.ownership,
            "handoff_id": handoff.id if handoff else None,
            "queue": handoff.queue if handoff else None,
            "agent_id": conversation.agent_id, **extra,
        }
        await self._audit(session, conversation, action, now, actor, data)
        self._announce(session, action, conversation, handoff, data)
        return Transition(
            conversation.id, action, before, conversation.ownership,
            handoff.id if handoff else None, handoff.queue if handoff else None,
        )

    async def _audit(
        self, session: AsyncSession, conversation: Conversation, action: str, now: datetime,
        actor: Actor, data: dict[str, Any],
    ) -> None:
        await audit.record(
            session, occurred_at=now, actor=str(actor), action=f"handoff.{action}",
            subject_type="conversation", subject_id=conversation.id,
            data={**data, "account_id": conversation.account_id},
        )

    def _announce(
        self, session: AsyncSession, action: str, conversation: Conversation,
        handoff: Handoff | None, data: dict[str, Any],
    ) -> None:
        if self.events is None:
            return
        body = {
            "conversation_id": conversation.id, "ownership": conversation.ownership,
            "queue": handoff.queue if handoff else None,
            "agent_id": conversation.agent_id, **{k: data[k] for k in ("priority",) if k in data},
        }
        publish_after_commit(session, self.events, Event(f"handoff.{action}", body))

    async def _human_stop_state(
        self, session: AsyncSession, conversation: Conversation
    ) -> str | None:
        if conversation.account_id is None:
            return None
        account = await session.get(Account, conversation.account_id)
        if account is None:
            return None
        return next((s.value for s in REOPEN_TO_HUMAN if getattr(account, s.value)), None)
