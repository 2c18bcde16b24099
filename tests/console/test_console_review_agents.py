"""Console users: unknown ids are not found, queues limit agents only and show on the Agents
page, `unlock` takes the email as the other commands do, and a long title wraps."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from backend.cli.agents import app
from backend.cli.runtime import run
from backend.console import users
from backend.container import Container
from backend.db.engine import build_engine, build_sessionmaker
from backend.db.models import AgentQueue, AgentUser, AuditEvent, Conversation, Debtor
from backend.db.models.enums import Role
from tests.console.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.console.conftest import NOW, PASSWORD, AgentFactory, LoggedIn, Seeder

runner = CliRunner()
CSS = Path(__file__).resolve().parents[2] / "backend" / "console" / "static" / "console.css"


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return url


def _stored(db_url: str) -> tuple[dict[str, str], int, int]:
    """(email -> role, queue rows, failed logins of ana) as stored."""

    async def read() -> tuple[dict[str, str], int, int]:
        engine = build_engine(db_url)
        try:
            async with build_sessionmaker(engine)() as session:
                roles = dict(
                    (await session.execute(select(AgentUser.email, AgentUser.role))).tuples().all()
                )
                queues = await session.scalar(select(func.count(AgentQueue.agent_id)))
                failed = await session.scalar(
                    select(AgentUser.failed_logins).where(AgentUser.email == "ana@example.com")
                )
                return roles, int(queues or 0), int(failed or 0)
        finally:
            await engine.dispose()

    return run(read)


def _lock(db_url: str) -> None:
    async def lock() -> None:
        engine = build_engine(db_url)
        try:
            async with build_sessionmaker(engine).begin() as session:
                for _ in range(users.MAX_FAILED_LOGINS):
                    await users.authenticate(session, "ana@example.com", "wrong guess", NOW)
        finally:
            await engine.dispose()

    run(lock)


def _create(*extra: str, email: str = "ana@example.com") -> list[str]:
    return ["create", "--email", email, "--name", "Ana", "--password", PASSWORD, *extra]


# 8: unlock, disable and enable of an id nobody has say so.


@pytest.mark.parametrize("action", ["unlock", "disable", "enable"])
async def test_an_action_on_a_user_that_does_not_exist_is_not_found(
    console: Container, logged_in: LoggedIn, action: str
) -> None:
    client, token, _ = await logged_in(Role.ADMIN)
    async with console.sessions() as session:
        before = await session.scalar(select(func.count(AuditEvent.id)))
    posted = await client.post(f"/console/agents/999/{action}", data={"csrf_token": token})
    assert posted.status_code == 303
    assert "notice=not_found" in posted.headers["location"]
    page = await client.get(posted.headers["location"])
    assert "Not found." in page.text
    async with console.sessions() as session:
        assert await session.scalar(select(func.count(AuditEvent.id))) == before


async def test_the_services_raise_for_an_unknown_id(console: Container) -> None:
    async with console.sessions.begin() as session:
        with pytest.raises(users.UnknownAgent):
            await users.unlock(session, 999, actor="cli", now=NOW)
        with pytest.raises(users.UnknownAgent):
            await users.set_disabled(session, 999, True, actor="cli", now=NOW)


# 9: queues are for agents; the Agents page shows them.


@pytest.mark.parametrize(
    ("role", "works"),
    [
        ("supervisor", "every queue"),
        ("admin", "every queue"),
        ("trainer", "no queue"),
    ],
)
def test_queues_are_refused_for_roles_they_never_limit(db_url: str, role: str, works: str) -> None:
    refused = runner.invoke(app, _create("--role", role, "--queue", "legal"), input="")
    assert refused.exit_code == 1
    assert refused.output.strip() == (
        f"not created: queues limit agents only; a {role} works {works}"
    )
    assert "Password" not in refused.output
    assert runner.invoke(app, _create("--role", role)).exit_code == 0, "without --queue: fine"
    assert _stored(db_url)[:2] == ({"ana@example.com": role}, 0)


async def test_the_service_refuses_queues_for_a_supervisor(console: Container) -> None:
    async with console.sessions.begin() as session:
        with pytest.raises(users.QueuesNotTaken):
            await users.create_agent(session, email="s@example.com", name="Sam Super",
                                     role=Role.SUPERVISOR, password=PASSWORD, now=NOW,
                                     queues=("legal",))


def test_set_role_says_what_the_kept_queues_do(db_url: str) -> None:
    assert runner.invoke(app, _create("--queue", "legal")).exit_code == 0
    up = runner.invoke(app, ["set-role", "ana@example.com", "supervisor"])
    assert up.exit_code == 0
    assert up.output.strip() == (
        "ana@example.com is now supervisor; their queues (legal) are "
        "kept and limit them again if made an agent"
    )
    down = runner.invoke(app, ["set-role", "ana@example.com", "agent"])
    assert down.output.strip() == "ana@example.com is now agent, limited to the queues legal"


def _row(page: str, email: str) -> str:
    match = re.search(rf"<tr>(?:(?!</tr>).)*{re.escape(email)}(?:(?!</tr>).)*</tr>", page, re.S)
    assert match, f"no row for {email}"
    return match.group(0)


def _queues_cell(page: str, email: str) -> str:
    match = re.search(r'<td data-label="Queues">(.*?)</td>', _row(page, email), re.S)
    assert match, f"no Queues cell for {email}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


async def test_the_agents_page_shows_each_users_queues(
    console: Container, logged_in: LoggedIn, make_agent: AgentFactory
) -> None:
    client, token, _ = await logged_in(Role.ADMIN)
    limited = await make_agent(Role.AGENT, "lim@example.com", queues=("legal", "general"))
    await make_agent(Role.AGENT, "free@example.com")
    await make_agent(Role.TRAINER, "t@example.com")
    page = (await client.get("/console/agents")).text
    assert "<th>Queues</th>" in page
    assert _queues_cell(page, "lim@example.com") == "general, legal"
    assert _queues_cell(page, "free@example.com") == "all"
    assert _queues_cell(page, "t@example.com") == "none"
    assert _queues_cell(page, "admin@example.com") == "all"
    promoted = await client.post(
        f"/console/agents/{limited}/role", data={"csrf_token": token, "role": "supervisor"}
    )
    assert "notice=role_changed" in promoted.headers["location"]
    page = (await client.get("/console/agents")).text
    assert _queues_cell(page, "lim@example.com") == (
        "all (kept for a demotion to agent: general, legal)"
    )


# 10: `unlock EMAIL` as the other commands; `--email` still works.


@pytest.mark.parametrize(
    "args", [["unlock", "Ana@Example.com"], ["unlock", "--email", "ana@example.com"]]
)
def test_unlock_takes_the_email_positionally_or_as_a_flag(db_url: str, args: list[str]) -> None:
    assert runner.invoke(app, _create()).exit_code == 0
    _lock(db_url)
    unlocked = runner.invoke(app, args)
    assert unlocked.exit_code == 0, unlocked.output
    assert "unlocked" in unlocked.output
    assert runner.invoke(app, ["unlock", "bob@example.com"]).exit_code == 1


def test_unlock_without_an_email_says_how(db_url: str) -> None:
    result = runner.invoke(app, ["unlock"])
    assert result.exit_code == 2 and "parley agents unlock EMAIL" in result.output


async def test_a_long_unbroken_debtor_name_wraps_within_the_page(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    require_chromium()
    from playwright.async_api import async_playwright

    client, _, agent_id = await logged_in(Role.AGENT)
    cid = await seed("I want to talk to a person")
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "request_agent", now=NOW)
        await console.services["handoff"].claim(session, cid, agent_id=agent_id, now=NOW)
        conversation = await session.get(Conversation, cid)
        assert conversation is not None
        debtor = await session.get(Debtor, conversation.debtor_id)
        assert debtor is not None
        debtor.full_name = "W" * 200
    html = (await client.get(f"/console/conversations/{cid}")).text
    assert "W" * 200 in html
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 860})
            await page.route("**/*", lambda route: route.abort())  # scripts, live feed
            await page.set_content(html)
            await page.add_style_tag(content=CSS.read_text())
            width = await page.evaluate("document.documentElement.scrollWidth")
        finally:
            await browser.close()
    assert width <= 1280
