"""Every console route against every role, without a session, and without the CSRF token."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select

from backend.console.permissions import ROLE_PERMISSIONS, Perm
from backend.console.routes import live
from backend.console_wiring import ROUTERS
from backend.container import Container
from backend.db.models import Account, Conversation, IntentCorrection, Message
from backend.db.models.enums import Role
from tests.console.conftest import NOW, AgentFactory, LoggedIn, Seeder

# (method, path, permission needed; None: any logged-in user). Logout last: it ends the session.
ROUTES: list[tuple[str, str, Perm | None]] = [
    ("GET", "/console", None),
    ("GET", "/console/queue", Perm.VIEW_QUEUE),
    ("GET", "/console/queue/board", Perm.VIEW_QUEUE),
    ("GET", "/console/conversations/{cid}", Perm.VIEW_CONVERSATION),
    ("GET", "/console/conversations/{cid}/messages", Perm.VIEW_CONVERSATION),
    ("GET", "/console/events", Perm.LIVE),
    ("POST", "/console/conversations/{cid}/claim", Perm.CLAIM),
    ("POST", "/console/conversations/{cid}/reply", Perm.REPLY),
    ("POST", "/console/conversations/{cid}/whatsapp-template", Perm.REPLY),
    ("POST", "/console/conversations/{cid}/reply-by-sms", Perm.REPLY),
    ("POST", "/console/conversations/{cid}/notes", Perm.NOTE),
    ("POST", "/console/messages/{mid}/intent", Perm.CORRECT_INTENT),
    ("POST", "/console/conversations/{cid}/promise", Perm.ACCOUNT_ACTION),
    ("POST", "/console/conversations/{cid}/plan", Perm.ACCOUNT_ACTION),
    ("POST", "/console/conversations/{cid}/settlement", Perm.ACCOUNT_ACTION),
    ("POST", "/console/conversations/{cid}/payment-link", Perm.ACCOUNT_ACTION),
    ("POST", "/console/accounts/{aid}/stop-state", Perm.STOP_STATE),
    ("POST", "/console/conversations/{cid}/return", Perm.HANDBACK),
    ("POST", "/console/conversations/{cid}/resolve", Perm.HANDBACK),
    ("GET", "/console/reports", Perm.VIEW_REPORTS),
    ("GET", "/console/reports/recovery", Perm.VIEW_REPORTS),
    ("GET", "/console/reports/recovery.csv", Perm.VIEW_REPORTS),
    ("GET", "/console/reports/outcomes", Perm.VIEW_REPORTS),
    ("GET", "/console/reports/outcomes.csv", Perm.VIEW_REPORTS),
    ("GET", "/console/reports/automation", Perm.VIEW_REPORTS),
    ("GET", "/console/reports/automation.csv", Perm.VIEW_REPORTS),
    ("GET", "/console/reports/strategy", Perm.VIEW_REPORTS),
    ("GET", "/console/reports/strategy.csv", Perm.VIEW_REPORTS),
    ("GET", "/console/reports/nlu", Perm.VIEW_REPORTS),
    ("GET", "/console/reports/nlu.csv", Perm.VIEW_REPORTS),
    ("GET", "/console/trainer", Perm.TRAINER_INBOX),
    ("POST", "/console/trainer/{corr}/reviewed", Perm.TRAINER_INBOX),
    ("POST", "/console/trainer/messages/{mid}/accept", Perm.TRAINER_INBOX),
    ("POST", "/console/trainer/messages/{mid}/dismiss", Perm.TRAINER_INBOX),
    ("POST", "/console/trainer/messages/{mid}/reopen", Perm.TRAINER_INBOX),
    ("GET", "/console/trainer/accepted.yml", Perm.TRAINER_INBOX),
    ("GET", "/console/models", Perm.TRAIN_MODEL),
    ("POST", "/console/models/train", Perm.TRAIN_MODEL),
    ("POST", "/console/models/promote", Perm.TRAIN_MODEL),
    ("POST", "/console/models/rollback", Perm.TRAIN_MODEL),
    ("GET", "/console/agents", Perm.MANAGE_AGENTS),
    ("POST", "/console/agents", Perm.MANAGE_AGENTS),
    ("POST", "/console/agents/{agent}/unlock", Perm.MANAGE_AGENTS),
    ("POST", "/console/agents/{agent}/disable", Perm.MANAGE_AGENTS),
    ("POST", "/console/agents/{agent}/enable", Perm.MANAGE_AGENTS),
    ("POST", "/console/agents/{agent}/role", Perm.MANAGE_AGENTS),
    ("POST", "/console/agents/{agent}/password", Perm.MANAGE_AGENTS),
    ("POST", "/console/logout", None),
]
PUBLIC = {("GET", "/console/login"), ("POST", "/console/login")}
FORM = {
    "text": "hello", "note": "agreed", "intent": "affirm", "state": "hardship", "action": "set",
    "details": "checked", "email": "new@example.com", "name": "New", "role": "agent",
    "password": "a-long-enough-password", "amount": "10.00", "due": "2026-12-01", "count": "3",
    "frequency": "monthly", "first": "2026-12-01",
}


@pytest.fixture(autouse=True)
def short_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """Live streams end at once, so a GET of /console/events returns."""
    monkeypatch.setattr(live, "STREAM_SECONDS", 0.0)


@pytest.fixture
async def ids(console: Container, seed: Seeder, make_agent: AgentFactory) -> dict[str, int]:
    """Ids to fill the route paths with."""
    cid = await seed("not my debt")
    other = await make_agent(Role.AGENT, "other@example.com")
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "dispute", now=NOW)
        mid = await session.scalar(select(Message.id).where(Message.conversation_id == cid))
        conversation = await session.get(Conversation, cid)
        assert conversation is not None and mid is not None
        correction = IntentCorrection(message_id=mid, corrected_intent="dispute_debt",
                                      agent_id=other, created_at=NOW)
        session.add(correction)
        await session.flush()
        account = await session.get(Account, conversation.account_id)
        assert account is not None
        return {"cid": cid, "mid": mid, "aid": account.id, "corr": correction.id,
                "agent": other}


def _console_routes() -> set[tuple[str, str]]:
    return {
        (method, re.sub(r"\{[a-z_]+\}", "{}", route.path))
        for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)
        for method in route.methods - {"HEAD"}
    }


async def _call(client: httpx.AsyncClient, method: str, path: str, ids: dict[str, int],
                token: str | None) -> httpx.Response:
    url = path.format(**ids)
    if method == "GET":
        return await client.get(url)
    data: dict[str, Any] = dict(FORM)
    if token is not None:
        data["csrf_token"] = token
    return await client.post(url, data=data)


def test_the_table_names_every_console_route() -> None:
    table = {(method, re.sub(r"\{[a-z]+\}", "{}", path)) for method, path, _ in ROUTES}
    assert _console_routes() == table | PUBLIC


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_reaches_exactly_its_routes(
    role: Role, logged_in: LoggedIn, ids: dict[str, int]
) -> None:
    client, token, _ = await logged_in(role)
    for method, path, perm in ROUTES:
        response = await _call(client, method, path, ids, token)
        allowed = perm is None or perm in ROLE_PERMISSIONS[role]
        location = response.headers.get("location", "")
        if allowed:
            assert response.status_code != 403, (role, method, path, response.text[:200])
            assert not location.startswith("/console/login?"), (role, method, path)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
            assert "Not allowed" in response.text


async def test_without_a_session_every_route_goes_to_login(
    anon: httpx.AsyncClient, ids: dict[str, int]
) -> None:
    for method, path, _ in ROUTES:
        response = await _call(anon, method, path, ids, "anything")
        assert response.status_code == 303, (method, path)
        assert response.headers["location"].startswith("/console/login?next="), (method, path)


async def test_every_form_without_the_csrf_token_is_refused(
    logged_in: LoggedIn, ids: dict[str, int]
) -> None:
    client, _, _ = await logged_in(Role.ADMIN)
    for method, path, _ in ROUTES:
        if method != "POST":
            continue
        for token in (None, "forged-token"):
            response = await _call(client, method, path, ids, token)
            assert response.status_code == 403, (path, token)
            assert "Form expired" in response.text


async def test_a_console_session_opens_no_api_route(
    console_app: FastAPI, logged_in: LoggedIn, ids: dict[str, int]
) -> None:
    client, _, _ = await logged_in(Role.ADMIN)
    guarded = [
        (method.upper(), re.sub(r"\{[a-z_]+\}", str(ids["aid"]), path))
        for path, operations in console_app.openapi()["paths"].items()
        for method, operation in operations.items() if operation.get("security")
    ]
    assert guarded, "expected API routes guarded by API keys"
    for method, path in guarded:
        response = await client.request(method, path)
        assert response.status_code == 401, (method, path)
