"""What each console role may do, and which conversations a console user reaches."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Conversation
from backend.db.models.enums import Role
from backend.services.queues import Queue, QueueConfig, conversation_queue, load_queues


class Perm(StrEnum):
    """One thing a console user can do."""

    VIEW_QUEUE = "view_queue"
    CLAIM = "claim"
    VIEW_CONVERSATION = "view_conversation"
    REPLY = "reply"
    NOTE = "note"
    ACCOUNT_ACTION = "account_action"  # promise, plan, settlement, payment link
    # Agree beyond the policy's approval limits (never beyond its hard bounds): the human the
    # bot's "needs a colleague's approval" hands the debtor to.
    APPROVE = "approve"
    HANDBACK = "handback"  # resolve, return to the bot
    OVERRIDE = "override"  # act on a conversation another agent owns, or still queued
    STOP_STATE = "stop_state"
    CORRECT_INTENT = "correct_intent"
    TRAINER_INBOX = "trainer_inbox"
    MANAGE_AGENTS = "manage_agents"
    LIVE = "live"
    VIEW_REPORTS = "view_reports"  # the supervisors' dashboards
    TRAIN_MODEL = "train_model"  # retrain, compare, promote and roll back the NLU model


_AGENT = frozenset({
    Perm.VIEW_QUEUE, Perm.CLAIM, Perm.VIEW_CONVERSATION, Perm.REPLY, Perm.NOTE,
    Perm.ACCOUNT_ACTION, Perm.HANDBACK, Perm.CORRECT_INTENT, Perm.LIVE,
})
ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.AGENT: _AGENT,
    Role.SUPERVISOR: _AGENT | {Perm.OVERRIDE, Perm.STOP_STATE, Perm.VIEW_REPORTS, Perm.APPROVE},
    # Trainers see masked messages only (the inbox), never a conversation with its account.
    Role.TRAINER: frozenset({Perm.TRAINER_INBOX, Perm.LIVE, Perm.TRAIN_MODEL}),
    Role.ADMIN: frozenset(Perm),
}


def allowed(role: str, perm: Perm) -> bool:
    """True when `role` carries `perm` (unknown roles carry nothing)."""
    try:
        return perm in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


def home_path(role: str) -> str:
    """Where a user lands after login."""
    if allowed(role, Perm.VIEW_QUEUE):
        return "/console/queue"
    if allowed(role, Perm.TRAINER_INBOX):
        return "/console/trainer"
    return "/console/login"


def takes_queues(role: str) -> bool:
    """Whether assigned queues limit `role`: agents' do; supervisors and admins always work
    every queue, and trainers work none."""
    return allowed(role, Perm.VIEW_QUEUE) and not allowed(role, Perm.OVERRIDE)


def limited_to(role: str, queues: tuple[str, ...]) -> tuple[str, ...]:
    """The only queues a user works: an agent's assigned ones; empty (every queue) for an
    agent with none assigned and for supervisors and admins."""
    return () if allowed(role, Perm.OVERRIDE) else queues


@lru_cache(maxsize=1)
def shipped_queues() -> QueueConfig:
    """The shipped queues file, read once (the queues the console's users work)."""
    return load_queues()


@dataclass(frozen=True)
class Scope:
    """Which conversations a console user reaches: all of them, or, for a user limited to
    some queues, the ones in those queues and the ones the user owns; never the ones of a
    queue closed to the user's role (`roles` in the queues file)."""

    user_id: int
    role: str
    queues: tuple[str, ...] = ()
    config: QueueConfig | None = None  # None: the shipped queues file

    @property
    def only(self) -> tuple[str, ...]:
        """The queues the user is limited to (empty: no limit)."""
        return limited_to(self.role, self.queues)

    @property
    def barred(self) -> tuple[str, ...]:
        """The queues closed to the user's role, whatever the user owns or is assigned."""
        return (self.config or shipped_queues()).closed_to(self.role)

    async def closed_queue(self, session: AsyncSession, conversation_id: int) -> Queue | None:
        """The queue closed to the user's role that the conversation belongs to, or None."""
        if not self.barred:
            return None
        queue = await conversation_queue(session, conversation_id)
        return (self.config or shipped_queues()).get(queue) if queue in self.barred else None

    async def refusal(self, session: AsyncSession, conversation_id: int) -> str | None:
        """Why the user's role may not work this conversation (a queue closed to it), or None."""
        queue = await self.closed_queue(session, conversation_id)
        if queue is None:
            return None
        return (f"Only {' and '.join(sorted(queue.roles))} users work the {queue.title} "
                f"queue; your role ({self.role}) cannot open or claim its conversations.")

    async def reaches(self, session: AsyncSession, conversation_id: int) -> bool:
        """Whether the conversation exists and the user may see and act on it: the one rule
        behind every conversation page, fragment, action and live event.

        A conversation belongs to the queue `conversation_queue` names, as it is now; one
        never handed to a person belongs to no queue, so only unlimited users reach it. A
        queue closed to the user's role is closed even to its owner (an agent who claimed it
        before the queue was closed): the supervisors take it over.
        """
        found = (await session.execute(
            select(Conversation.agent_id).where(Conversation.id == conversation_id)
        )).first()
        if found is None:
            return False
        if not self.only and not self.barred:
            return True
        queue = await conversation_queue(session, conversation_id)
        if queue in self.barred:
            return False
        return not self.only or found.agent_id == self.user_id or queue in self.only

    async def among(self, session: AsyncSession, conversation_ids: list[int]) -> list[int]:
        """The ones of `conversation_ids` the user reaches (a debtor's other conversations)."""
        if not self.only and not self.barred:
            return list(conversation_ids)
        return [cid for cid in conversation_ids if await self.reaches(session, cid)]
