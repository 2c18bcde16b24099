"""Console security fixes: atomic lockout, password and user rules, disabling users, notices."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from typer.testing import CliRunner

from backend.cli.agents import app as agents_cli
from backend.cli.runtime import run
from backend.console import users
from backend.console.passwords import WeakPassword, hash_password
from backend.container import Container
from backend.db.engine import build_engine, build_sessionmaker
from backend.db.models import AgentUser, AuditEvent
from backend.db.models.enums import Role
from tests.console.conftest import PASSWORD, AgentFactory, LoggedIn, Seeder, csrf_of, login

runner = CliRunner()
ATTEMPTS = 12


async def _actions(console: Container, action: str) -> int:
    async with console.sessions() as session:
        rows = await session.scalars(select(AuditEvent.id).where(AuditEvent.action == action))
        return len(list(rows))


async def _agent(console: Container, email: str) -> AgentUser:
    async with console.sessions() as session:
        agent = await session.scalar(select(AgentUser).where(AgentUser.email == email))
        assert agent is not None
        return agent


async def _attempt(console: Container, password: str) -> users.LoginResult:
    async with console.sessions.begin() as session:
        return await users.authenticate(session, "agent@example.com", password,
                                        console.clock.now())


# 1. Concurrent wrong passwords -------------------------------------------------------------


async def test_concurrent_wrong_passwords_lock_the_account_once(
    console: Container, make_agent: AgentFactory
) -> None:
    await make_agent(Role.AGENT)
    results = await asyncio.gather(*(_attempt(console, f"wrong guess {n:04d}")
                                     for n in range(ATTEMPTS)))
    assert not any(r.ok for r in results)
    agent = await _agent(console, "agent@example.com")
    assert agent.locked_until is not None and agent.locked_until > console.clock.now()
    assert await _actions(console, "agent.locked") == 1


async def test_no_guess_is_checked_while_the_account_is_locked(
    console: Container, make_agent: AgentFactory
) -> None:
    await make_agent(Role.AGENT)
    await asyncio.gather(*(_attempt(console, f"wrong guess {n:04d}") for n in range(ATTEMPTS)))
    more = await asyncio.gather(*(_attempt(console, PASSWORD) for _ in range(3)))
    assert not any(r.ok for r in more)
    assert await _actions(console, "agent.locked") == 1
    console.clock.advance(users.LOCKOUT + timedelta(minutes=1))  # type: ignore[attr-defined]
    assert (await _attempt(console, PASSWORD)).ok


async def test_every_concurrent_failure_counts_below_the_threshold(
    console: Container, make_agent: AgentFactory
) -> None:
    await make_agent(Role.AGENT)
    below = users.MAX_FAILED_LOGINS - 1
    await asyncio.gather(*(_attempt(console, f"wrong guess {n:04d}") for n in range(below)))
    agent = await _agent(console, "agent@example.com")
    assert agent.failed_logins == below and agent.locked_until is None


# 2. Password, email and name rules ---------------------------------------------------------


@pytest.mark.parametrize("password", [
    " " * 12, "\t" * 3 + " " * 10, "aaaaaaaaaaaa", "AaAaAaAaAaAa", "abababababab",
    "password1234", "Password1234", "123456789012", "qwertyuiop123",
])
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(WeakPassword):
        hash_password(password)


def test_good_passwords_are_accepted() -> None:
    for password in (PASSWORD, "a-long-enough-password", "Tr0ub4dor&3-horse"):
        assert hash_password(password).startswith("$argon2id$")


@pytest.mark.parametrize(("email", "name", "error"), [
    ("   ", "Ana", "InvalidEmail"), ("", "Ana", "InvalidEmail"), ("ana", "Ana", "InvalidEmail"),
    ("ana@example", "Ana", "InvalidEmail"), ("ana @example.com", "Ana", "InvalidEmail"),
    ("a@b@example.com", "Ana", "InvalidEmail"), ("ana\x00@example.com", "Ana", "InvalidEmail"),
    ("ana@example.com", "  ", "InvalidName"),
    ("ana@example.com", "", "InvalidName"), ("ana@example.com", "Ana\x00", "InvalidName"),
    ("ana@example.com", "A" * 201, "InvalidName"),
])
async def test_blank_or_malformed_emails_and_names_are_refused(
    console: Container, email: str, name: str, error: str
) -> None:
    with pytest.raises(ValueError) as refused:
        async with console.sessions.begin() as session:
            await users.create_agent(session, email=email, name=name, role=Role.AGENT,
                                     password=PASSWORD, now=console.clock.now())
    assert isinstance(refused.value, getattr(users, error))
    async with console.sessions() as session:
        assert await users.count_agents(session) == 0


async def test_the_agents_page_refuses_blank_users_with_a_clear_notice(
    logged_in: LoggedIn, console: Container
) -> None:
    client, token, _ = await logged_in(Role.ADMIN)
    form = {"csrf_token": token, "role": "agent", "password": PASSWORD}
    cases = [({"email": "   ", "name": "Ana"}, "Enter an email address"),
             ({"email": "ana@example.com", "name": "  "}, "Enter a name"),
             ({"email": "ana@example.com", "name": "Ana", "password": "aaaaaaaaaaaa"},
              "Choose a stronger password")]
    for fields, says in cases:
        response = await client.post("/console/agents", data={**form, **fields})
        assert response.status_code == 303
        page = await client.get(response.headers["location"])
        assert says in page.text
    async with console.sessions() as session:
        assert await users.count_agents(session) == 1  # the admin only


# 3. Disabling users, passwords and roles ---------------------------------------------------


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return url


def _cli(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(agents_cli, list(args), input=input)
    return result.exit_code, result.output


def _login_ok(db_url: str, email: str, password: str) -> tuple[bool, str | None]:
    async def check() -> tuple[bool, str | None]:
        engine = build_engine(db_url)
        try:
            async with build_sessionmaker(engine).begin() as session:
                from datetime import UTC, datetime

                result = await users.authenticate(session, email, password, datetime.now(UTC))
                return result.ok, result.agent.role if result.agent else None
        finally:
            await engine.dispose()

    return run(check)


def _audited(db_url: str) -> list[str]:
    async def read() -> list[str]:
        engine = build_engine(db_url)
        try:
            async with build_sessionmaker(engine)() as session:
                return list(await session.scalars(select(AuditEvent.action)
                                                  .order_by(AuditEvent.id)))
        finally:
            await engine.dispose()

    return run(read)


def test_the_cli_refuses_blank_names_emails_and_weak_passwords(db_url: str) -> None:
    for email, name, password in (("   ", "Ana", PASSWORD), ("ana@example.com", "  ", PASSWORD),
                                  ("ana@example.com", "Ana", " " * 12)):
        code, output = _cli("create", "--email", email, "--name", name, "--password", password)
        assert code == 1 and "not created" in output, output


def test_the_cli_disables_and_enables_a_user(db_url: str) -> None:
    assert _cli("create", "--email", "ana@example.com", "--name", "Ana",
                "--password", PASSWORD)[0] == 0
    code, output = _cli("disable", "Ana@Example.com")
    assert code == 0 and "disabled" in output
    assert _login_ok(db_url, "ana@example.com", PASSWORD) == (False, None)
    code, output = _cli("enable", "ana@example.com")
    assert code == 0 and "enabled" in output
    assert _login_ok(db_url, "ana@example.com", PASSWORD) == (True, "agent")
    assert {"agent.disabled", "agent.enabled"} <= set(_audited(db_url))


def test_the_cli_sets_a_prompted_password_with_the_same_rules(db_url: str) -> None:
    _cli("create", "--email", "ana@example.com", "--name", "Ana", "--password", PASSWORD)
    weak = " " * 12
    code, output = _cli("set-password", "ana@example.com", input=f"{weak}\n{weak}\n")
    assert code == 1 and "not changed" in output
    new = "a brand new passphrase"
    code, output = _cli("set-password", "ana@example.com", input=f"{new}\n{new}\n")
    assert code == 0, output
    assert new not in output  # hidden input
    assert _login_ok(db_url, "ana@example.com", PASSWORD)[0] is False
    assert _login_ok(db_url, "ana@example.com", new)[0] is True
    assert "agent.password_set" in _audited(db_url)


def test_the_cli_changes_a_role(db_url: str) -> None:
    _cli("create", "--email", "ana@example.com", "--name", "Ana", "--password", PASSWORD)
    code, output = _cli("set-role", "ana@example.com", "supervisor")
    assert code == 0 and "supervisor" in output
    assert _login_ok(db_url, "ana@example.com", PASSWORD) == (True, "supervisor")
    assert "agent.role_changed" in _audited(db_url)
    assert _cli("set-role", "ana@example.com", "overlord")[0] != 0


def test_the_cli_says_when_there_is_no_such_user(db_url: str) -> None:
    _cli("create", "--email", "ana@example.com", "--name", "Ana", "--password", PASSWORD)
    for args in (("disable", "bob@example.com"), ("enable", "bob@example.com"),
                 ("set-role", "bob@example.com", "admin")):
        code, output = _cli(*args)
        assert code == 1 and "no console user" in output


async def test_a_disabled_users_open_session_ends_at_the_next_request(
    console: Container, logged_in: LoggedIn
) -> None:
    client, _, agent_id = await logged_in(Role.AGENT)
    assert (await client.get("/console/queue")).status_code == 200
    async with console.sessions.begin() as session:
        assert await users.set_disabled(session, agent_id, True, actor="cli",
                                        now=console.clock.now())
    response = await client.get("/console/queue")
    assert response.status_code == 303 and "/console/login" in response.headers["location"]
    page = await client.get("/console/login")
    refused = await client.post("/console/login", data={
        "email": "agent@example.com", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert refused.status_code == 401


async def test_a_disabled_user_is_refused_even_with_a_current_session_version(
    console: Container, logged_in: LoggedIn
) -> None:
    client, _, agent_id = await logged_in(Role.AGENT)
    async with console.sessions.begin() as session:
        agent = await session.get(AgentUser, agent_id)
        assert agent is not None
        agent.password_hash = users.DISABLED + agent.password_hash
    response = await client.get("/console/queue")
    assert response.status_code == 303 and "/console/login" in response.headers["location"]


async def test_an_admin_disables_enables_and_changes_roles_on_the_agents_page(
    console: Container, logged_in: LoggedIn, console_app: FastAPI
) -> None:
    agent_client, _, agent_id = await logged_in(Role.AGENT)
    admin, token, admin_id = await logged_in(Role.ADMIN)
    response = await admin.post(f"/console/agents/{agent_id}/disable",
                                data={"csrf_token": token})
    assert "Console user disabled" in (await admin.get(response.headers["location"])).text
    assert (await agent_client.get("/console/queue")).status_code == 303
    await admin.post(f"/console/agents/{agent_id}/enable", data={"csrf_token": token})
    await admin.post(f"/console/agents/{agent_id}/role",
                     data={"csrf_token": token, "role": "supervisor"})
    assert (await _agent(console, "agent@example.com")).role == "supervisor"
    refused = await admin.post(f"/console/agents/{admin_id}/disable",
                               data={"csrf_token": token})
    assert "Ask another admin" in (await admin.get(refused.headers["location"])).text
    assert (await admin.get("/console/agents")).status_code == 200
    for action in ("agent.disabled", "agent.enabled", "agent.role_changed"):
        assert await _actions(console, action) == 1, action


async def test_an_admin_sets_a_password_on_the_agents_page(
    console: Container, logged_in: LoggedIn, console_app: FastAPI
) -> None:
    _, _, agent_id = await logged_in(Role.AGENT)
    admin, token, _ = await logged_in(Role.ADMIN)
    weak = await admin.post(f"/console/agents/{agent_id}/password",
                            data={"csrf_token": token, "password": "aaaaaaaaaaaa"})
    assert "Choose a stronger password" in (await admin.get(weak.headers["location"])).text
    await admin.post(f"/console/agents/{agent_id}/password",
                     data={"csrf_token": token, "password": "a brand new passphrase"})
    async with console.sessions.begin() as session:
        assert (await users.authenticate(session, "agent@example.com", "a brand new passphrase",
                                         console.clock.now())).ok


# 5. Notices only after a real action -------------------------------------------------------


@pytest.fixture
async def agent_client(
    console_app: FastAPI, make_agent: AgentFactory
) -> AsyncIterator[tuple[httpx.AsyncClient, str, int]]:
    agent_id = await make_agent(Role.AGENT)
    transport = httpx.ASGITransport(app=console_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client, await login(client, "agent@example.com"), agent_id


async def _queued(console: Container, seed: Seeder) -> int:
    cid = await seed("I want a person")
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "request_agent",
                                                       now=console.clock.now())
    return cid


@pytest.mark.parametrize(("query", "text"), [
    ("notice=link_sent", "Payment link sent."),
    ("notice=blocked&reason=anything+at+all", "anything at all"),
    ("notice=blocked&reason=anything+at+all", "Not sent."),
    ("notice=claimed", "You own this conversation now."),
    ("notice=send_failed&reason=Call+555-0100", "could not be sent"),
])
async def test_a_crafted_notice_link_shows_nothing(
    console: Container, seed: Seeder, agent_client: tuple[httpx.AsyncClient, str, int],
    query: str, text: str,
) -> None:
    client, _, _ = agent_client
    cid = await _queued(console, seed)
    page = await client.get(f"/console/conversations/{cid}?{query}")
    assert page.status_code == 200 and text not in page.text
    queue = await client.get(f"/console/queue?{query}")
    assert queue.status_code == 200 and text not in queue.text


async def test_the_notice_of_a_real_action_is_shown_on_its_page_only(
    console: Container, seed: Seeder, agent_client: tuple[httpx.AsyncClient, str, int],
) -> None:
    client, token, _ = agent_client
    cid = await _queued(console, seed)
    response = await client.post(f"/console/conversations/{cid}/claim",
                                 data={"csrf_token": token})
    location = response.headers["location"]
    assert location == f"/console/conversations/{cid}?notice=claimed"
    assert "You own this conversation now." in (await client.get(location)).text
    forged = await client.get(f"/console/conversations/{cid}?notice=link_sent")
    assert "Payment link sent." not in forged.text
    other = await _queued(console, seed)
    moved = await client.get(f"/console/conversations/{other}?notice=claimed")
    assert "You own this conversation now." not in moved.text


async def test_a_tampered_or_expired_notice_cookie_vouches_for_nothing(
    console: Container, seed: Seeder, agent_client: tuple[httpx.AsyncClient, str, int],
) -> None:
    from backend.console.notices import FLASH_COOKIE

    client, token, _ = agent_client
    cid = await _queued(console, seed)
    location = (await client.post(f"/console/conversations/{cid}/claim",
                                  data={"csrf_token": token})).headers["location"]
    genuine = client.cookies.get(FLASH_COOKIE)
    assert genuine
    client.cookies.set(FLASH_COOKIE, genuine[:-2] + "xx", path="/console")
    assert "You own this conversation now." not in (await client.get(location)).text
    client.cookies.set(FLASH_COOKIE, genuine, path="/console")
    console.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    assert "You own this conversation now." not in (await client.get(location)).text


@pytest.mark.parametrize("role", list(Role))
async def test_only_admins_reach_the_new_agents_routes(
    role: Role, logged_in: LoggedIn, make_agent: AgentFactory
) -> None:
    other = await make_agent(Role.AGENT, "other@example.com")
    client, token, _ = await logged_in(role)
    form = {"csrf_token": token, "role": "agent", "password": "a-long-enough-password"}
    for action in ("disable", "enable", "role", "password"):
        response = await client.post(f"/console/agents/{other}/{action}", data=form)
        assert (response.status_code == 303) == (role == Role.ADMIN), (role, action)
        assert (response.status_code == 403) == (role != Role.ADMIN), (role, action)
