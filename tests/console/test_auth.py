"""Console login: argon2 hashes, signed session cookies, CSRF, logout and lockout."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from starlette.responses import Response

from backend.console import cookies, users
from backend.console.passwords import WeakPassword, hash_password, verify_password
from backend.console.routes import live
from backend.container import Container
from backend.db.models import AgentUser, AuditEvent
from backend.db.models.enums import Role
from tests.console.conftest import PASSWORD, AgentFactory, LoggedIn, csrf_of, login

ERROR_RE = re.compile(r'role="alert">([^<]*)<')


def test_passwords_are_argon2id_and_short_ones_are_refused() -> None:
    hashed = hash_password("a sufficiently long one")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "a sufficiently long one")
    assert not verify_password(hashed, "a sufficiently long two")
    assert not verify_password("not-a-hash", "whatever")
    with pytest.raises(WeakPassword):
        hash_password("short")


async def test_login_sets_a_hardened_cookie_and_lands_on_the_queue(
    anon: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    await make_agent(Role.AGENT, "Ana@Example.com")
    page = await anon.get("/console/login")
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    response = await anon.post("/console/login", data={
        "email": "ana@example.com", "password": PASSWORD, "csrf_token": csrf_of(page.text),
    })
    assert response.status_code == 303 and response.headers["location"] == "/console/queue"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/console" in cookie
    assert (await anon.get("/console/queue")).status_code == 200


async def test_the_login_rotates_the_csrf_token(
    anon: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    await make_agent(Role.AGENT)
    before = csrf_of((await anon.get("/console/login")).text)
    after = await login(anon, "agent@example.com")
    assert before != after


async def test_a_wrong_password_says_nothing_about_the_account(
    anon: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    await make_agent(Role.AGENT)
    for email in ("agent@example.com", "nobody@example.com"):
        page = await anon.get("/console/login")
        response = await anon.post("/console/login", data={
            "email": email, "password": "wrong password!", "csrf_token": csrf_of(page.text),
        })
        assert response.status_code == 401
        assert "Wrong email or password." in response.text


async def test_login_without_the_csrf_token_is_refused(
    anon: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    await make_agent(Role.AGENT)
    await anon.get("/console/login")
    response = await anon.post("/console/login", data={
        "email": "agent@example.com", "password": PASSWORD, "csrf_token": "forged",
    })
    assert response.status_code == 401 and "form expired" in response.text


async def test_five_failures_lock_the_account_until_the_lockout_ends(
    anon: httpx.AsyncClient, make_agent: AgentFactory, console: Container
) -> None:
    await make_agent(Role.AGENT)

    async def attempt(password: str) -> httpx.Response:
        page = await anon.get("/console/login")
        return await anon.post("/console/login", data={
            "email": "agent@example.com", "password": password, "csrf_token": csrf_of(page.text),
        })

    for _ in range(5):
        assert (await attempt("not the password")).status_code == 401
    locked = await attempt(PASSWORD)
    assert locked.status_code == 401 and "locked until" not in locked.text
    console.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    assert (await attempt(PASSWORD)).status_code == 303
    async with console.sessions() as session:
        agent = await session.scalar(select(AgentUser))
        actions = list(await session.scalars(select(AuditEvent.action)))
    assert agent is not None and agent.failed_logins == 0 and agent.locked_until is None
    assert "agent.locked" in actions and "agent.login" in actions


async def test_logout_ends_the_session(logged_in: LoggedIn) -> None:
    client, token, _ = await logged_in(Role.AGENT)
    response = await client.post("/console/logout", data={"csrf_token": token})
    assert response.status_code == 303
    after = await client.get("/console/queue")
    assert after.status_code == 303 and after.headers["location"].startswith("/console/login")


async def test_a_logout_ends_the_open_live_stream_at_the_next_keep_alive(
    logged_in: LoggedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "KEEPALIVE_SECONDS", 0.05)
    monkeypatch.setattr(live, "STREAM_SECONDS", 5.0)
    client, token, _ = await logged_in(Role.AGENT)
    stream = asyncio.create_task(client.get("/console/events"))
    await asyncio.sleep(0.2)
    assert (await client.post("/console/logout", data={"csrf_token": token})).status_code == 303
    body = (await asyncio.wait_for(stream, timeout=4.0)).text
    assert body.startswith("retry: 2000\nevent: hello") and ": keep-alive" in body
    assert body.endswith("event: signed-out\ndata: {}\n\n")


async def test_a_locked_account_answers_like_an_unknown_email(
    anon: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    await make_agent(Role.AGENT)

    async def errors(email: str) -> list[str]:
        answers = []
        for password in ["not the password"] * 5 + [PASSWORD]:
            page = await anon.get("/console/login")
            response = await anon.post("/console/login", data={
                "email": email, "password": password, "csrf_token": csrf_of(page.text),
            })
            assert response.status_code == 401
            answers.append(ERROR_RE.findall(response.text))
        return [a for answer in answers for a in answer]

    known, unknown = await errors("agent@example.com"), await errors("nobody@example.com")
    assert known == unknown and len(set(known)) == 1
    assert "locked" in known[0] and "UTC" not in known[0]


async def test_a_copied_cookie_dies_at_logout(
    logged_in: LoggedIn, console: Container
) -> None:
    client, token, _ = await logged_in(Role.ADMIN)
    copied = client.cookies[cookies.COOKIE_NAME]
    assert (await client.post("/console/logout", data={"csrf_token": token})).status_code == 303
    client.cookies.set(cookies.COOKIE_NAME, copied, path="/console")
    page = await client.get("/console/queue")
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")
    post = await client.post("/console/agents", data={
        "csrf_token": token, "email": "new@example.com", "name": "New", "role": "agent",
        "password": PASSWORD,
    })
    assert post.status_code == 303 and post.headers["location"].startswith("/console/login")
    async with console.sessions() as session:
        emails = list(await session.scalars(select(AgentUser.email)))
    assert emails == ["admin@example.com"]
    client.cookies.clear()  # a new login still works
    await login(client, "admin@example.com")
    assert (await client.get("/console/queue")).status_code == 200


async def test_an_unlock_ends_the_sessions_of_the_user(
    logged_in: LoggedIn, console: Container
) -> None:
    client, _, agent_id = await logged_in(Role.AGENT)
    async with console.sessions.begin() as session:
        await users.unlock(session, agent_id, actor="cli", now=console.clock.now())
    page = await client.get("/console/queue")
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")


async def test_a_tampered_cookie_is_no_session(
    anon: httpx.AsyncClient, make_agent: AgentFactory, console: Container
) -> None:
    agent_id = await make_agent(Role.ADMIN)
    forged = cookies.new_session(agent_id)
    other = console.settings.model_copy(update={"secret_key": "another-secret-" * 3})
    response = Response()
    cookies.write_session(response, other, forged)
    value = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    anon.cookies.set(cookies.COOKIE_NAME, value, path="/console")
    page = await anon.get("/console/agents")
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")


async def test_login_only_redirects_inside_the_console(
    anon: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    await make_agent(Role.AGENT)
    for target, expected in (("/console/trainer", "/console/trainer"),
                             ("https://evil.example/", "/console/queue"),
                             ("//evil.example/console/", "/console/queue")):
        page = await anon.get("/console/login")
        response = await anon.post("/console/login", data={
            "email": "agent@example.com", "password": PASSWORD,
            "csrf_token": csrf_of(page.text), "next": target,
        })
        assert response.headers["location"] == expected


def test_cookies_are_secure_in_production_and_behind_https(container: Container) -> None:
    settings = container.settings
    assert not cookies.secure_cookies(settings)
    https = settings.model_copy(update={"public_base_url": "https://collect.example"})
    assert cookies.secure_cookies(https)
