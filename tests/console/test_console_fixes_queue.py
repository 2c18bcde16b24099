"""The queue board: supervisors see every agent's conversations; agents see their own."""

from __future__ import annotations

from backend.container import Container
from backend.db.models.enums import Role
from tests.console.conftest import NOW, AgentFactory, LoggedIn, Seeder


async def _owned_by(console: Container, seed: Seeder, agent_id: int, text: str) -> int:
    cid = await seed(text, intent="dispute_debt")
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "dispute", now=NOW)
        await console.services["handoff"].claim(session, cid, agent_id=agent_id, now=NOW)
    return cid


async def test_a_supervisor_sees_every_agents_conversations_with_the_owner(
    console: Container, seed: Seeder, logged_in: LoggedIn, make_agent: AgentFactory
) -> None:
    other = await make_agent(Role.AGENT, "other@example.com")
    cid = await _owned_by(console, seed, other, "not mine")
    for role in (Role.SUPERVISOR, Role.ADMIN):
        client, _, _ = await logged_in(role)
        for path in ("/console/queue", "/console/queue/board"):
            html = (await client.get(path)).text
            assert "Owned by agents" in html, (role, path)
            assert f'href="/console/conversations/{cid}"' in html, (role, path)
            assert "agent user" in html  # the owner's name


async def test_a_supervisors_own_conversations_stay_under_mine(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, _, supervisor = await logged_in(Role.SUPERVISOR)
    cid = await _owned_by(console, seed, supervisor, "mine")
    html = (await client.get("/console/queue/board")).text
    mine, _, others = html.partition("Owned by agents")
    assert f'href="/console/conversations/{cid}"' in mine
    assert f'href="/console/conversations/{cid}"' not in others


async def test_an_agent_still_sees_only_the_waiting_and_their_own(
    console: Container, seed: Seeder, logged_in: LoggedIn, make_agent: AgentFactory
) -> None:
    other = await make_agent(Role.AGENT, "other@example.com")
    theirs = await _owned_by(console, seed, other, "not mine")
    client, _, me = await logged_in(Role.AGENT)
    mine = await _owned_by(console, seed, me, "mine")
    html = (await client.get("/console/queue")).text
    assert f'href="/console/conversations/{mine}"' in html
    assert f'href="/console/conversations/{theirs}"' not in html
    assert "Owned by agents" not in html
