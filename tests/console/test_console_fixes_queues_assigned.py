"""Assigned queues: an agent with queues sees and claims only those; others work every queue."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI

from backend.container import Container
from backend.db.models import Conversation
from backend.db.models.enums import Role
from tests.console.conftest import AgentFactory, Seeder, login

Client = tuple[httpx.AsyncClient, str, int]
ClientFactory = Callable[..., Awaitable[Client]]


@pytest.fixture
async def user(console_app: FastAPI, make_agent: AgentFactory) -> AsyncIterator[ClientFactory]:
    """A logged-in client for a new user of `role` working `queues`: (client, csrf, id)."""
    clients: list[httpx.AsyncClient] = []

    async def make(role: Role, queues: tuple[str, ...] = ()) -> Client:
        email = f"{role.value}-{len(clients)}@example.com"
        agent_id = await make_agent(role, email, queues=queues)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=console_app),
                                   base_url="http://testserver")
        clients.append(client)
        return client, await login(client, email), agent_id

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def waiting(console: Container, seed: Seeder) -> dict[str, int]:
    """One conversation waiting in the legal queue and one in the general queue."""
    cids = {}
    for queue, reason in (("legal", "attorney"), ("general", "request_agent")):
        cid = await seed(f"waiting for {queue}")
        async with console.sessions.begin() as session:
            await console.services["handoff"].open_handoff(session, cid, reason,
                                                           now=console.clock.now())
        cids[queue] = cid
    return cids


def _listed(html: str, cid: int) -> bool:
    return f'action="/console/conversations/{cid}/claim"' in html


async def _owner(console: Container, cid: int) -> int | None:
    async with console.sessions() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None
        return conversation.agent_id


async def test_an_agent_with_queues_sees_only_those(
    user: ClientFactory, waiting: dict[str, int]
) -> None:
    client, _, _ = await user(Role.AGENT, ("general",))
    for path in ("/console/queue", "/console/queue/board"):
        html = (await client.get(path)).text
        assert _listed(html, waiting["general"]), path
        assert not _listed(html, waiting["legal"]), path
        assert 'data-queue="legal"' not in html and 'data-queue="general"' in html


async def test_an_agent_cannot_claim_outside_their_queues(
    console: Container, user: ClientFactory, waiting: dict[str, int]
) -> None:
    client, token, agent_id = await user(Role.AGENT, ("general",))
    refused = await client.post(f"/console/conversations/{waiting['legal']}/claim",
                                data={"csrf_token": token})
    # Answered as a conversation that does not exist (see test_queue_reach.py).
    assert refused.status_code == 404 and "No such conversation" in refused.text
    assert await _owner(console, waiting["legal"]) is None
    taken = await client.post(f"/console/conversations/{waiting['general']}/claim",
                              data={"csrf_token": token})
    assert "notice=claimed" in taken.headers["location"]
    assert await _owner(console, waiting["general"]) == agent_id


@pytest.mark.parametrize(("role", "queues"), [
    (Role.AGENT, ()), (Role.SUPERVISOR, ("general",)), (Role.ADMIN, ("general",)),
])
async def test_others_see_and_claim_every_queue(
    console: Container, user: ClientFactory, waiting: dict[str, int], role: Role,
    queues: tuple[str, ...],
) -> None:
    client, token, agent_id = await user(role, queues)
    html = (await client.get("/console/queue")).text
    assert _listed(html, waiting["legal"]) and _listed(html, waiting["general"])
    taken = await client.post(f"/console/conversations/{waiting['legal']}/claim",
                              data={"csrf_token": token})
    assert "notice=claimed" in taken.headers["location"]
    assert await _owner(console, waiting["legal"]) == agent_id


async def test_an_agent_keeps_a_conversation_they_already_own(
    console: Container, user: ClientFactory, waiting: dict[str, int]
) -> None:
    client, token, agent_id = await user(Role.AGENT, ("general",))
    async with console.sessions.begin() as session:
        await console.services["handoff"].claim(session, waiting["legal"], agent_id=agent_id,
                                                now=console.clock.now())
    html = (await client.get("/console/queue")).text
    assert f'href="/console/conversations/{waiting["legal"]}"' in html  # under "mine"
    again = await client.post(f"/console/conversations/{waiting['legal']}/claim",
                              data={"csrf_token": token})
    assert "notice=claimed" in again.headers["location"]
