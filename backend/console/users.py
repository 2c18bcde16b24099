"""Console users: creating them, logging them in with lockout, and the queues they work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.console.passwords import dummy_hash, hash_password, verify_password
from backend.db.models import AgentQueue, AgentUser
from backend.db.models.enums import Role
from backend.services import audit

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


class AgentExists(ValueError):
    """An agent with that email already exists."""


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


async def create_agent(
    session: AsyncSession, *, email: str, name: str, role: Role, password: str, now: datetime,
    actor: str = "cli", queues: tuple[str, ...] = (),
) -> AgentUser:
    """A new console user (the password is hashed; short passwords are refused)."""
    email = normalize_email(email)
    if await session.scalar(select(AgentUser.id).where(AgentUser.email == email)):
        raise AgentExists(f"an agent with email {email} already exists")
    agent = AgentUser(
        email=email, name=name.strip(), role=Role(role).value,
        password_hash=hash_password(password), failed_logins=0, created_at=now,
    )
    session.add(agent)
    await session.flush()
    await set_queues(session, agent.id, queues)
    await audit.record(
        session, occurred_at=now, actor=actor, action="agent.created", subject_type="agent_user",
        subject_id=agent.id, data={"role": agent.role, "queues": list(queues)},
    )
    return agent


async def authenticate(
    session: AsyncSession, email: str, password: str, now: datetime
) -> LoginResult:
    """Check a login; MAX_FAILED_LOGINS wrong passwords lock the account for LOCKOUT."""
    agent = await session.scalar(
        select(AgentUser).where(AgentUser.email == normalize_email(email))
    )
    if agent is None:
        verify_password(dummy_hash(), password)
        return LoginResult(None)
    if agent.locked_until is not None and agent.locked_until > now:
        verify_password(dummy_hash(), password)  # as slow as any other failure
        return LoginResult(None, agent.locked_until)
    if not verify_password(agent.password_hash, password):
        return await _failed(session, agent, now)
    agent.failed_logins, agent.locked_until = 0, None
    await audit.record(session, occurred_at=now, actor=f"agent:{agent.id}", action="agent.login",
                       subject_type="agent_user", subject_id=agent.id)
    return LoginResult(agent)


async def _failed(session: AsyncSession, agent: AgentUser, now: datetime) -> LoginResult:
    agent.failed_logins += 1
    if agent.failed_logins < MAX_FAILED_LOGINS:
        return LoginResult(None)
    agent.failed_logins, agent.locked_until = 0, now + LOCKOUT
    await audit.record(session, occurred_at=now, actor="system", action="agent.locked",
                       subject_type="agent_user", subject_id=agent.id,
                       data={"until": agent.locked_until.isoformat()})
    return LoginResult(None, agent.locked_until)


async def unlock(session: AsyncSession, agent_id: int, *, actor: str, now: datetime) -> None:
    """Lift a lockout early (admin); the agent's open sessions end too."""
    agent = await session.get(AgentUser, agent_id)
    if agent is None:
        return
    agent.failed_logins, agent.locked_until = 0, None
    await end_sessions(session, agent_id)
    await audit.record(session, occurred_at=now, actor=actor, action="agent.unlocked",
                       subject_type="agent_user", subject_id=agent_id)


async def end_sessions(session: AsyncSession, agent_id: int) -> None:
    """Refuse every session cookie issued to the agent so far (logout, unlock)."""
    await session.execute(
        update(AgentUser).where(AgentUser.id == agent_id)
        .values(session_version=AgentUser.session_version + 1)
    )


async def set_queues(session: AsyncSession, agent_id: int, queues: tuple[str, ...]) -> None:
    """Replace the queues an agent works."""
    await session.execute(delete(AgentQueue).where(AgentQueue.agent_id == agent_id))
    session.add_all(AgentQueue(agent_id=agent_id, queue=q) for q in dict.fromkeys(queues))
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
