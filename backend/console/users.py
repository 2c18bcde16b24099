"""Console users: creating, logging in with lockout, disabling, and the queues they work."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, delete, func, literal, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.console.passwords import dummy_hash, hash_password, verify_password
from backend.console.permissions import Perm, allowed, takes_queues
from backend.db.models import AgentQueue, AgentUser
from backend.db.models.enums import Role
from backend.db.types import UtcDateTime
from backend.services import audit
from backend.services.queues import QueueConfig, load_queues

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MAX_FIELD = 200  # the email and name columns' length
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
# An argon2 hash never starts with "!": the marker makes it unverifiable until removed.
DISABLED = "!"


class AgentExists(ValueError):
    """An agent with that email already exists."""


class InvalidAgent(ValueError):
    """A blank or malformed email or name."""


class InvalidEmail(InvalidAgent):
    """A blank or malformed email."""


class InvalidName(InvalidAgent):
    """A blank, overlong or unprintable name."""


class QueuesNotTaken(InvalidAgent):
    """Queues given for a role they never limit."""


class UnknownAgent(LookupError):
    """No console user has that email."""


@dataclass(frozen=True)
class LoginResult:
    """The agent on success; otherwise None, with `locked_until` for callers that log it (the
    login page answers every failure alike, so it never tells which emails have accounts)."""

    agent: AgentUser | None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        """True when the login succeeded."""
        return self.agent is not None


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively."""
    return email.strip().lower()


def valid_email(email: str) -> str:
    """The normalized email; InvalidAgent when it is blank or not an address."""
    email = normalize_email(email)
    if len(email) > MAX_FIELD or not email.isprintable() or not EMAIL.fullmatch(email):
        raise InvalidEmail("enter an email address such as ana@example.com")
    return email


def valid_name(name: str) -> str:
    """The trimmed name; InvalidAgent when it is blank, too long or holds control characters."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_FIELD or not name.isprintable():
        raise InvalidName(f"enter a name (1 to {MAX_FIELD} characters)")
    return name


def is_disabled(agent: AgentUser) -> bool:
    """True for a user an admin disabled (no login, no session)."""
    return agent.password_hash.startswith(DISABLED)


async def create_agent(
    session: AsyncSession, *, email: str, name: str, role: Role, password: str, now: datetime,
    actor: str = "cli", queues: tuple[str, ...] = (), known: QueueConfig | None = None,
) -> AgentUser:
    """A new console user (the password is hashed; weak passwords are refused); `queues`
    must all be queues of `known` (the shipped queues file when not given), else
    UnknownQueue, and only an agent takes any, else QueuesNotTaken, before anything is
    written."""
    email, name = valid_email(email), valid_name(name)
    queues_apply(Role(role), queues)
    queues = known_queues(queues, known)
    if await session.scalar(select(AgentUser.id).where(AgentUser.email == email)):
        raise AgentExists(f"an agent with email {email} already exists")
    agent = AgentUser(
        email=email, name=name, role=Role(role).value,
        password_hash=hash_password(password), failed_logins=0, created_at=now,
    )
    session.add(agent)
    await session.flush()
    await _write_queues(session, agent.id, queues)
    await audit.record(
        session, occurred_at=now, actor=actor, action="agent.created", subject_type="agent_user",
        subject_id=agent.id, data={"role": agent.role, "queues": list(queues)},
    )
    return agent


async def authenticate(
    session: AsyncSession, email: str, password: str, now: datetime
) -> LoginResult:
    """Check a login; MAX_FAILED_LOGINS wrong passwords lock the account for LOCKOUT.

    The counter moves in the database (`failed_logins + 1`), never from a value read earlier,
    so attempts made at once all count, and only the one reaching the threshold locks.
    """
    agent = await session.scalar(
        select(AgentUser).where(AgentUser.email == normalize_email(email))
    )
    if agent is None or is_disabled(agent):
        verify_password(dummy_hash(), password)
        return LoginResult(None)
    if agent.locked_until is not None and agent.locked_until > now:
        verify_password(dummy_hash(), password)  # as slow as any other failure
        return LoginResult(None, agent.locked_until)
    if not verify_password(agent.password_hash, password):
        return await _failed(session, agent.id, now)
    if not await _succeeded(session, agent.id, now):
        return LoginResult(None)
    await audit.record(session, occurred_at=now, actor=f"agent:{agent.id}", action="agent.login",
                       subject_type="agent_user", subject_id=agent.id)
    return LoginResult(agent)


def _open(now: datetime) -> ColumnElement[bool]:
    """The agent is not locked at `now` (checked again at write time)."""
    return or_(AgentUser.locked_until.is_(None), AgentUser.locked_until <= now)


async def _failed(session: AsyncSession, agent_id: int, now: datetime) -> LoginResult:
    reaches = AgentUser.failed_logins + 1 >= MAX_FAILED_LOGINS
    until = now + LOCKOUT
    row = (await session.execute(
        update(AgentUser).where(AgentUser.id == agent_id, _open(now))
        .values(failed_logins=case((reaches, 0), else_=AgentUser.failed_logins + 1),
                locked_until=case((reaches, literal(until, UtcDateTime())),
                                  else_=AgentUser.locked_until))
        .returning(AgentUser.locked_until)
        .execution_options(synchronize_session=False)
    )).first()
    if row is None:  # another attempt locked the account meanwhile
        return LoginResult(None)
    if row.locked_until is None or row.locked_until <= now:
        return LoginResult(None)
    await audit.record(session, occurred_at=now, actor="system", action="agent.locked",
                       subject_type="agent_user", subject_id=agent_id,
                       data={"until": until.isoformat()})
    return LoginResult(None, until)


async def _succeeded(session: AsyncSession, agent_id: int, now: datetime) -> bool:
    """Reset the counter unless a concurrent failure locked (or an admin disabled) the user."""
    done = await session.scalar(
        update(AgentUser)
        .where(AgentUser.id == agent_id, _open(now),
               not_(AgentUser.password_hash.startswith(DISABLED)))
        .values(failed_logins=0, locked_until=None)
        .returning(AgentUser.id)
        .execution_options(synchronize_session=False)
    )
    return done is not None


async def unlock(session: AsyncSession, agent_id: int, *, actor: str, now: datetime) -> None:
    """Lift a lockout early (admin); the agent's open sessions end too. UnknownAgent when
    there is no such user."""
    agent = await session.get(AgentUser, agent_id)
    if agent is None:
        raise UnknownAgent(f"no console user with id {agent_id}")
    agent.failed_logins, agent.locked_until = 0, None
    await end_sessions(session, agent_id)
    await audit.record(session, occurred_at=now, actor=actor, action="agent.unlocked",
                       subject_type="agent_user", subject_id=agent_id)


async def agent_by_email(session: AsyncSession, email: str) -> AgentUser:
    """The console user with `email`; UnknownAgent when there is none."""
    agent = await session.scalar(
        select(AgentUser).where(AgentUser.email == normalize_email(email))
    )
    if agent is None:
        raise UnknownAgent(f"no console user {normalize_email(email)}")
    return agent


async def set_disabled(
    session: AsyncSession, agent_id: int, disabled: bool, *, actor: str, now: datetime
) -> bool:
    """Disable a user (login refused, every session ended) or enable them again; False when
    there was nothing to change, UnknownAgent when there is no such user. The hash is kept
    behind a marker, as `passwd -l` does, so enabling restores the password the user had."""
    agent = await session.get(AgentUser, agent_id)
    if agent is None:
        raise UnknownAgent(f"no console user with id {agent_id}")
    if is_disabled(agent) == disabled:
        return False
    stored = agent.password_hash.removeprefix(DISABLED)
    agent.password_hash = DISABLED + stored if disabled else stored
    await session.flush()
    if disabled:
        await end_sessions(session, agent_id)
    await audit.record(session, occurred_at=now, actor=actor,
                       action="agent.disabled" if disabled else "agent.enabled",
                       subject_type="agent_user", subject_id=agent_id)
    return True


async def set_password(
    session: AsyncSession, agent_id: int, password: str, *, actor: str, now: datetime
) -> None:
    """Replace a user's password (same rules as at creation); their sessions end and any
    lockout lifts. A disabled user stays disabled."""
    hashed = hash_password(password)
    agent = await session.get(AgentUser, agent_id)
    if agent is None:
        raise UnknownAgent(f"no console user with id {agent_id}")
    agent.password_hash = DISABLED + hashed if is_disabled(agent) else hashed
    agent.failed_logins, agent.locked_until = 0, None
    await session.flush()
    await end_sessions(session, agent_id)
    await audit.record(session, occurred_at=now, actor=actor, action="agent.password_set",
                       subject_type="agent_user", subject_id=agent_id)


async def set_role(
    session: AsyncSession, agent_id: int, role: Role, *, actor: str, now: datetime
) -> bool:
    """Change a user's role (it applies from their next request); False when unchanged."""
    role = Role(role)
    agent = await session.get(AgentUser, agent_id)
    if agent is None:
        raise UnknownAgent(f"no console user with id {agent_id}")
    if agent.role == role.value:
        return False
    before, agent.role = agent.role, role.value
    await session.flush()
    await audit.record(session, occurred_at=now, actor=actor, action="agent.role_changed",
                       subject_type="agent_user", subject_id=agent_id,
                       data={"from": before, "to": role.value})
    return True


async def end_sessions(session: AsyncSession, agent_id: int) -> None:
    """Refuse every session cookie issued to the agent so far (logout, unlock)."""
    await session.execute(
        update(AgentUser).where(AgentUser.id == agent_id)
        .values(session_version=AgentUser.session_version + 1)
    )


def queues_apply(role: Role, queues: tuple[str, ...] | list[str]) -> None:
    """QueuesNotTaken when `queues` are given for a role they would never limit (stored, they
    would silently start limiting the user on a later demotion to agent)."""
    if not queues or takes_queues(role.value):
        return
    works = "every queue" if allowed(role.value, Perm.VIEW_QUEUE) else "no queue"
    raise QueuesNotTaken(f"queues limit agents only; a {role.value} works {works}")


def known_queues(queues: tuple[str, ...], known: QueueConfig | None = None) -> tuple[str, ...]:
    """`queues` without repeats, each one a queue of `known` (the shipped queues file when
    not given); else UnknownQueue, naming the bad names and the known ones (an agent limited
    to a queue that does not exist would see nothing, and nobody would say why)."""
    if not queues:
        return ()
    return (known or load_queues()).known(queues)


async def set_queues(
    session: AsyncSession, agent_id: int, queues: tuple[str, ...],
    known: QueueConfig | None = None,
) -> None:
    """Replace the queues an agent works (checked as `known_queues` does, before writing)."""
    await _write_queues(session, agent_id, known_queues(queues, known))


async def _write_queues(session: AsyncSession, agent_id: int, queues: tuple[str, ...]) -> None:
    await session.execute(delete(AgentQueue).where(AgentQueue.agent_id == agent_id))
    session.add_all(AgentQueue(agent_id=agent_id, queue=q) for q in queues)
    await session.flush()


async def queues_of(session: AsyncSession, agent_id: int) -> tuple[str, ...]:
    """The queues an agent works (empty: all of them)."""
    rows = await session.scalars(
        select(AgentQueue.queue).where(AgentQueue.agent_id == agent_id).order_by(AgentQueue.queue)
    )
    return tuple(rows)


async def count_agents(session: AsyncSession) -> int:
    """How many console users exist."""
    return int(await session.scalar(select(func.count(AgentUser.id))) or 0)


async def list_agents(session: AsyncSession) -> list[AgentUser]:
    """Every console user by name."""
    return list(await session.scalars(select(AgentUser).order_by(AgentUser.name)))


async def assigned_queues(session: AsyncSession) -> dict[int, tuple[str, ...]]:
    """Each console user's stored queues (users with none are absent), for the Agents page."""
    rows = await session.execute(
        select(AgentQueue.agent_id, AgentQueue.queue).order_by(AgentQueue.queue))
    assigned: dict[int, tuple[str, ...]] = {}
    for agent_id, queue in rows.all():
        assigned[agent_id] = (*assigned.get(agent_id, ()), queue)
    return assigned
