"""An agent limited to some queues reaches only their conversations: every conversation route
and the live feed answer for another queue's conversation as for one that does not exist."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from backend.console.permissions import Scope
from backend.console.routes import live
from backend.console_wiring import ROUTERS
from backend.container import Container
from backend.db.models import (
    AuditEvent,
    Conversation,
    ConversationNote,
    Handoff,
    IntentCorrection,
    Message,
    PaymentPlan,
    Promise,
)
from backend.db.models.enums import Role
from backend.services.events import Event
from backend.services.handoff import agent_actor
from backend.services.queues import conversation_queue
from tests.console.conftest import NOW, AgentFactory, Seeder, login

Client = tuple[httpx.AsyncClient, str, int]
ClientFactory = Callable[..., Awaitable[Client]]
MISSING = 987_654
# Routes with an id in the path that are not about one conversation, and why.
NOT_CONVERSATION_ROUTES = {
    # Trainers read masked messages only, never a conversation; no agent role reaches these.
    "/console/trainer/messages/{message_id}/accept",
    "/console/trainer/messages/{message_id}/dismiss",
    "/console/trainer/messages/{message_id}/reopen",
    "/console/trainer/{correction_id}/reviewed",
    # Supervisors and admins only, and they reach every conversation.
    "/console/accounts/{account_id}/stop-state",
    # Console users, admins only.
    "/console/agents/{agent_id}/unlock",
    "/console/agents/{agent_id}/disable",
    "/console/agents/{agent_id}/enable",
    "/console/agents/{agent_id}/role",
    "/console/agents/{agent_id}/password",
}
FORM = {
    "text": "hello",
    "note": "agreed",
    "intent": "affirm",
    "amount": "10.00",
    "due": "2026-12-01",
    "count": "3",
    "frequency": "monthly",
    "first": "2026-12-01",
    "nonce": "n1",
}


def _routes_with_ids() -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and "{" in route.path
        for method in route.methods - {"HEAD"}
    )


CONVERSATION_ROUTES = [
    (method, path) for method, path in _routes_with_ids() if path not in NOT_CONVERSATION_ROUTES
]


def test_every_route_with_an_id_is_classified() -> None:
    paths = {path for _, path in _routes_with_ids()}
    for path in paths - NOT_CONVERSATION_ROUTES:
        assert "{conversation_id}" in path or path == "/console/messages/{message_id}/intent", (
            f"{path}: is it about one conversation? Guard it with conversation_dep (or "
            "message_dep) and it is tested here, or list it in NOT_CONVERSATION_ROUTES"
        )
    assert len(CONVERSATION_ROUTES) >= 11


@pytest.fixture
async def user(console_app: FastAPI, make_agent: AgentFactory) -> AsyncIterator[ClientFactory]:
    """A logged-in client for a new user of `role` working `queues`: (client, csrf, id)."""
    clients: list[httpx.AsyncClient] = []

    async def make(role: Role, queues: tuple[str, ...] = ()) -> Client:
        email = f"{role.value}-{len(clients)}@example.com"
        agent_id = await make_agent(role, email, queues=queues)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=console_app), base_url="http://testserver"
        )
        clients.append(client)
        return client, await login(client, email), agent_id

    yield make
    for client in clients:
        await client.aclose()


async def _hand_off(console: Container, cid: int, reason: str) -> None:
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, reason, now=NOW)


@pytest.fixture
async def waiting(console: Container, seed: Seeder) -> dict[str, int]:
    """A conversation waiting in the legal queue, one in general, and one never handed off."""
    cids = {"legal": await seed("my lawyer handles this"), "general": await seed("a person")}
    await _hand_off(console, cids["legal"], "attorney")
    await _hand_off(console, cids["general"], "request_agent")
    cids["bot"] = await seed("what do I owe")
    return cids


async def _first_message(console: Container, cid: int) -> int:
    async with console.sessions() as session:
        mid = await session.scalar(
            select(func.min(Message.id)).where(Message.conversation_id == cid)
        )
    assert mid is not None
    return mid


async def _call(
    client: httpx.AsyncClient, token: str, method: str, path: str, cid: int, mid: int
) -> httpx.Response:
    url = path.format(conversation_id=cid, message_id=mid)
    if method == "GET":
        return await client.get(url)
    return await client.post(url, data={**FORM, "csrf_token": token})


async def _state(console: Container) -> dict[str, Any]:
    """What any conversation action could change."""
    counts = {}
    async with console.sessions() as session:
        for model in (
            Message,
            ConversationNote,
            Handoff,
            IntentCorrection,
            Promise,
            PaymentPlan,
            AuditEvent,
        ):
            counts[model.__name__] = await session.scalar(select(func.count(model.id)))
        rows = await session.execute(
            select(Conversation.id, Conversation.ownership, Conversation.agent_id)
        )
        counts["ownership"] = sorted(tuple(row) for row in rows.all())
    return counts


@pytest.fixture(autouse=True)
def short_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """Live streams end at once unless a test says otherwise."""
    monkeypatch.setattr(live, "STREAM_SECONDS", 0.0)


@pytest.mark.parametrize(("method", "path"), CONVERSATION_ROUTES)
async def test_another_queues_conversation_answers_as_a_missing_one(
    console: Container, user: ClientFactory, waiting: dict[str, int], method: str, path: str
) -> None:
    client, token, _ = await user(Role.AGENT, ("general",))
    before = await _state(console)
    outside = await _call(
        client,
        token,
        method,
        path,
        waiting["legal"],
        await _first_message(console, waiting["legal"]),
    )
    missing = await _call(client, token, method, path, MISSING, MISSING)
    assert outside.status_code == missing.status_code == 404, outside.text[:300]
    assert "No such conversation" in outside.text and "No such conversation" in missing.text
    assert "lawyer" not in outside.text
    assert await _state(console) == before


@pytest.mark.parametrize(("method", "path"), CONVERSATION_ROUTES)
async def test_the_agents_own_queue_stays_open(
    console: Container, user: ClientFactory, waiting: dict[str, int], method: str, path: str
) -> None:
    client, token, _ = await user(Role.AGENT, ("general",))
    response = await _call(
        client,
        token,
        method,
        path,
        waiting["general"],
        await _first_message(console, waiting["general"]),
    )
    assert response.status_code not in (403, 404), response.text[:300]


@pytest.mark.parametrize(
    ("role", "queues"),
    [
        (Role.AGENT, ()),
        (Role.SUPERVISOR, ("general",)),
        (Role.ADMIN, ("general",)),
    ],
)
async def test_unlimited_users_reach_every_conversation(
    console: Container,
    user: ClientFactory,
    waiting: dict[str, int],
    role: Role,
    queues: tuple[str, ...],
) -> None:
    client, _, _ = await user(role, queues)
    for cid in waiting.values():
        page = await client.get(f"/console/conversations/{cid}")
        lines = await client.get(f"/console/conversations/{cid}/messages")
        assert page.status_code == lines.status_code == 200, (role, cid)


async def test_a_conversation_never_handed_off_belongs_to_no_queue(
    console: Container, user: ClientFactory, waiting: dict[str, int]
) -> None:
    async with console.sessions() as session:
        assert await conversation_queue(session, waiting["bot"]) is None
    client, _, _ = await user(Role.AGENT, ("general",))
    assert (await client.get(f"/console/conversations/{waiting['bot']}")).status_code == 404


async def test_a_conversation_follows_its_queue_as_it_moves(
    console: Container, user: ClientFactory, waiting: dict[str, int], make_agent: AgentFactory
) -> None:
    client, _, _ = await user(Role.AGENT, ("general",))
    cid, page = waiting["general"], f"/console/conversations/{waiting['general']}"
    other = await make_agent(Role.AGENT, "colleague@example.com")
    handoffs = console.services["handoff"]
    async with console.sessions.begin() as session:
        await handoffs.claim(session, cid, agent_id=other, now=NOW)
        await handoffs.return_to_bot(
            session, cid, note="agreed to pay friday", actor=agent_actor(other), now=NOW
        )
    assert (await client.get(page)).status_code == 200  # its last queue is still general
    await _hand_off(console, cid, "bankruptcy")  # the debtor wrote again: now in legal
    async with console.sessions() as session:
        assert await conversation_queue(session, cid) == "legal"
    assert (await client.get(page)).status_code == 404


async def test_an_agent_reaches_a_conversation_they_own_in_another_queue(
    console: Container, user: ClientFactory, waiting: dict[str, int]
) -> None:
    client, token, agent_id = await user(Role.AGENT, ("general",))
    async with console.sessions.begin() as session:
        await console.services["handoff"].claim(
            session, waiting["legal"], agent_id=agent_id, now=NOW
        )
    assert (await client.get(f"/console/conversations/{waiting['legal']}")).status_code == 200
    noted = await client.post(
        f"/console/conversations/{waiting['legal']}/notes",
        data={"csrf_token": token, "text": "called the lawyer"},
    )
    assert noted.status_code == 303 and "notice=noted" in noted.headers["location"]


async def test_the_debtors_other_conversations_show_only_as_far_as_the_agent_reaches(
    console: Container, user: ClientFactory, waiting: dict[str, int]
) -> None:
    async with console.sessions.begin() as session:
        general = await session.get(Conversation, waiting["general"])
        assert general is not None
        legal = Conversation(
            channel="whatsapp",
            address=general.address,
            debtor_id=general.debtor_id,
            account_id=general.account_id,
            started_at=NOW,
            last_message_at=NOW,
        )
        session.add(legal)
        await session.flush()
        session.add(
            Message(
                conversation_id=legal.id,
                direction="inbound",
                channel="whatsapp",
                text="my attorney will call",
                delivery_status="received",
                created_at=NOW,
            )
        )
        legal_id = legal.id
    await _hand_off(console, legal_id, "attorney")
    limited, _, _ = await user(Role.AGENT, ("general",))
    everyone, _, _ = await user(Role.AGENT)
    for client, shown in ((limited, False), (everyone, True)):
        for path in ("", "/messages"):
            page = await client.get(f"/console/conversations/{waiting['general']}{path}")
            assert page.status_code == 200
            assert ("my attorney will call" in page.text) is shown, (shown, path)


async def _stream_body(
    client: httpx.AsyncClient,
    console: Container,
    events: list[Event],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    monkeypatch.setattr(live, "STREAM_SECONDS", 1.0)
    monkeypatch.setattr(live, "KEEPALIVE_SECONDS", 0.05)
    stream = asyncio.create_task(client.get("/console/events"))
    await asyncio.sleep(0.3)  # subscribed
    for event in events:
        await console.services["events"].publish(event)
    return (await asyncio.wait_for(stream, timeout=5.0)).text


def _events(cids: dict[str, int]) -> list[Event]:
    return [
        Event("handoff.opened", {"conversation_id": cids["legal"], "queue": "legal"}),
        Event("message", {"conversation_id": cids["legal"], "message_id": 1}),
        Event("message", {"conversation_id": cids["bot"], "message_id": 2}),
        Event("message", {"conversation_id": cids["general"], "message_id": 3}),
        Event("handoff.claimed", {"conversation_id": cids["general"], "queue": "general"}),
        Event("resync"),
    ]


async def test_the_live_feed_leaves_out_other_queues(
    console: Container,
    user: ClientFactory,
    waiting: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, _, _ = await user(Role.AGENT, ("general",))
    body = await _stream_body(client, console, _events(waiting), monkeypatch)
    sent = [int(n) for n in re.findall(r'"conversation_id": (\d+)', body)]
    assert sent == [waiting["general"], waiting["general"]], body
    assert "event: resync" in body


@pytest.mark.parametrize(("role", "queues"), [(Role.AGENT, ()), (Role.SUPERVISOR, ("general",))])
async def test_the_live_feed_tells_unlimited_users_everything(
    console: Container,
    user: ClientFactory,
    waiting: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    role: Role,
    queues: tuple[str, ...],
) -> None:
    client, _, _ = await user(role, queues)
    body = await _stream_body(client, console, _events(waiting), monkeypatch)
    assert len(re.findall(r'"conversation_id": (\d+)', body)) == 5, body


async def test_the_scope_rule(
    console: Container, waiting: dict[str, int], make_agent: AgentFactory
) -> None:
    agent = await make_agent(Role.AGENT, "a@example.com", queues=("general",))
    limited = Scope(agent, Role.AGENT.value, ("general",))
    async with console.sessions() as session:
        assert await limited.reaches(session, waiting["general"])
        assert not await limited.reaches(session, waiting["legal"])
        assert not await limited.reaches(session, waiting["bot"])
        assert not await limited.reaches(session, MISSING)
        assert await limited.among(session, list(waiting.values())) == [waiting["general"]]
        supervisor = Scope(agent, Role.SUPERVISOR.value, ("general",))
        assert await supervisor.reaches(session, waiting["legal"])
        assert not await supervisor.reaches(session, MISSING)
