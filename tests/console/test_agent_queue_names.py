"""Queue names given to an agent must be queues of the queues file: refused, naming the bad
name and the known ones, with nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from backend.cli.agents import app
from backend.cli.runtime import run
from backend.console import users
from backend.container import Container
from backend.db.engine import build_engine, build_sessionmaker
from backend.db.models import AgentQueue, AgentUser, AuditEvent
from backend.db.models.enums import Role
from backend.services.queues import UnknownQueue, load_queues, parse_queues
from tests.console.conftest import NOW, PASSWORD, AgentFactory

runner = CliRunner()
KNOWN = ("legal, complaints, disputes, hardship, payments, approvals, negotiation, verification, "
         "unmatched, general")


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return url


def _create(*extra: str, email: str = "ana@example.com") -> list[str]:
    return ["create", "--email", email, "--name", "Ana", "--password", PASSWORD, *extra]


def _stored(db_url: str) -> dict[str, list[str]]:
    async def read() -> dict[str, list[str]]:
        engine = build_engine(db_url)
        try:
            async with build_sessionmaker(engine)() as session:
                rows = await session.execute(
                    select(AgentUser.email, AgentQueue.queue)
                    .outerjoin(AgentQueue, AgentQueue.agent_id == AgentUser.id)
                    .order_by(AgentUser.email, AgentQueue.queue)
                )
                stored: dict[str, list[str]] = {}
                for email, queue in rows.all():
                    stored.setdefault(email, []).extend([queue] if queue else [])
                return stored
        finally:
            await engine.dispose()

    return run(read)


def test_an_unknown_queue_is_refused_by_name_and_nothing_is_written(db_url: str) -> None:
    assert runner.invoke(app, _create(email="ada@example.com")).exit_code == 0
    refused = runner.invoke(app, _create("--queue", "general", "--queue", "lgal"))
    assert refused.exit_code == 1
    expected = f"not created: unknown queue 'lgal'; the known queues are: {KNOWN}"
    assert refused.output.strip() == expected
    assert _stored(db_url) == {"ada@example.com": []}


def test_every_unknown_name_is_named(db_url: str) -> None:
    refused = runner.invoke(app, _create("--queue", "Legal", "--queue", "vip"))
    assert refused.exit_code == 1
    assert "unknown queues 'Legal', 'vip';" in refused.output and KNOWN in refused.output


def test_a_bad_queue_is_refused_before_the_password_is_asked(db_url: str) -> None:
    refused = runner.invoke(
        app, ["create", "--email", "a@example.com", "--name", "A", "--queue", "nowhere"], input=""
    )
    assert refused.exit_code == 1
    assert "unknown queue 'nowhere'" in refused.output and "Password" not in refused.output


def test_known_queues_are_stored_once_each(db_url: str) -> None:
    created = runner.invoke(
        app, _create("--queue", "legal", "--queue", "general", "--queue", "legal")
    )
    assert created.exit_code == 0, created.output
    assert _stored(db_url) == {"ana@example.com": ["general", "legal"]}


async def test_the_service_refuses_unknown_queues_before_writing(
    console: Container, make_agent: AgentFactory
) -> None:
    with pytest.raises(UnknownQueue, match=f"unknown queue 'nope'; the known queues are: {KNOWN}"):
        await make_agent(Role.AGENT, "x@example.com", queues=("general", "nope"))
    agent = await make_agent(Role.AGENT, "y@example.com", queues=("general",))
    async with console.sessions() as session:
        before = await session.scalar(select(func.count(AuditEvent.id)))
    with pytest.raises(UnknownQueue):
        async with console.sessions.begin() as session:
            await users.set_queues(session, agent, ("legal", "gnral"))
    async with console.sessions() as session:
        assert await session.scalar(select(func.count(AgentUser.id))) == 1
        assert await users.queues_of(session, agent) == ("general",)
        assert await session.scalar(select(func.count(AuditEvent.id))) == before


async def test_the_queues_given_decide_what_is_known(console: Container) -> None:
    config = parse_queues({"queues": {"vip": {"target_minutes": 5, "default": True}}})
    async with console.sessions.begin() as session:
        agent = await users.create_agent(
            session,
            email="v@example.com",
            name="V",
            role=Role.AGENT,
            password=PASSWORD,
            now=NOW,
            queues=("vip",),
            known=config,
        )
        assert await users.queues_of(session, agent.id) == ("vip",)
    with pytest.raises(UnknownQueue, match="known queues are: vip$"):
        config.known(["general"])
    assert load_queues().known(["legal", "legal", "general"]) == ("legal", "general")
