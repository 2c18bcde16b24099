"""The approvals queue is closed to agents (`roles` in the queues file): only supervisors and
admins see, claim and act on its conversations; a bad `roles` is refused at load."""

from __future__ import annotations

import html
import re

import pytest

from backend.container import Container
from backend.db.models.enums import Role
from backend.services.events import Event
from backend.services.queues import QueueConfigError, load_queues, parse_queues
from tests.console.conftest import NOW, LoggedIn, Seeder
from tests.console.test_queue_reach import _stream_body

CLOSED = "Only admin and supervisor users work the Approvals"


async def _awaiting_approval(console: Container, seed: Seeder) -> int:
    cid = await seed("can i do 75 a month", intent="request_payment_plan")
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(
            session, cid, "needs_approval", queue="approvals", now=NOW)
    return cid


def test_the_shipped_approvals_queue_is_for_supervisors_and_admins() -> None:
    queues = load_queues()
    assert queues.get("approvals").roles == {"supervisor", "admin"}
    assert queues.closed_to("agent") == ("approvals",)
    assert queues.closed_to("supervisor") == queues.closed_to("admin") == ()
    assert queues.get("general").open_to("agent")


@pytest.mark.parametrize(("roles", "says"), [
    ("supervisor", "`roles` must be a list of role names"),
    (["supervisor", "boss"], "`roles` names unknown role(s) 'boss'"),
])
def test_a_bad_roles_setting_is_refused_naming_the_file_queue_and_field(
    roles: object, says: str,
) -> None:
    raw = {"queues": {"approvals": {"target_minutes": 60, "roles": roles, "default": True}}}
    with pytest.raises(QueueConfigError) as refused:
        parse_queues(raw, source="queues.yml")
    assert str(refused.value).startswith("queues.yml: queue 'approvals': ")
    assert says in str(refused.value)


async def test_an_agent_neither_sees_nor_claims_nor_opens_an_approval(
    console: Container, seed: Seeder, logged_in: LoggedIn,
) -> None:
    cid = await _awaiting_approval(console, seed)
    agent, token, _ = await logged_in(Role.AGENT)
    board = await agent.get("/console/queue")
    assert board.status_code == 200
    assert f"/console/conversations/{cid}" not in board.text
    claim = await agent.post(f"/console/conversations/{cid}/claim", data={"csrf_token": token})
    assert claim.status_code == 403
    assert CLOSED in html.unescape(claim.text)
    assert (await agent.get(f"/console/conversations/{cid}")).status_code in (403, 404)
    async with console.sessions() as session:
        handoff = await console.services["handoff"].current_handoff(session, cid)
    assert handoff is not None and handoff.status == "queued" and handoff.agent_id is None


async def test_an_agent_who_claimed_one_before_loses_it_to_the_supervisors(
    console: Container, seed: Seeder, logged_in: LoggedIn,
) -> None:
    cid = await _awaiting_approval(console, seed)
    agent, token, agent_id = await logged_in(Role.AGENT)
    async with console.sessions.begin() as session:
        await console.services["handoff"].claim(session, cid, agent_id=agent_id, now=NOW)
    board = await agent.get("/console/queue")
    assert f"/console/conversations/{cid}" not in board.text
    note = await agent.post(f"/console/conversations/{cid}/notes",
                            data={"csrf_token": token, "text": "I will agree it"})
    assert note.status_code == 404
    supervisor, _, _ = await logged_in(Role.SUPERVISOR)
    assert f"/console/conversations/{cid}" in (await supervisor.get("/console/queue")).text


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
async def test_a_supervisor_or_admin_sees_claims_and_opens_an_approval(
    console: Container, seed: Seeder, logged_in: LoggedIn, role: Role,
) -> None:
    cid = await _awaiting_approval(console, seed)
    client, token, user_id = await logged_in(role)
    assert f"/console/conversations/{cid}" in (await client.get("/console/queue")).text
    claim = await client.post(f"/console/conversations/{cid}/claim", data={"csrf_token": token})
    assert claim.status_code == 303
    assert "notice=claimed" in claim.headers["location"]
    assert (await client.get(f"/console/conversations/{cid}")).status_code == 200
    async with console.sessions() as session:
        handoff = await console.services["handoff"].current_handoff(session, cid)
    assert handoff is not None and handoff.agent_id == user_id


async def test_an_agent_still_claims_the_other_queues(
    console: Container, seed: Seeder, logged_in: LoggedIn,
) -> None:
    cid = await seed("let me talk to a person")
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "requested_agent", now=NOW)
    agent, token, _ = await logged_in(Role.AGENT)
    claim = await agent.post(f"/console/conversations/{cid}/claim", data={"csrf_token": token})
    assert claim.status_code == 303 and "notice=claimed" in claim.headers["location"]
    missing = await agent.post("/console/conversations/999999/claim", data={"csrf_token": token})
    assert missing.status_code == 404


async def test_an_agents_live_feed_leaves_out_the_approvals(
    console: Container, seed: Seeder, logged_in: LoggedIn, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cid = await _awaiting_approval(console, seed)
    other = await seed("i want to talk to someone", intent="request_agent")
    events = [Event("message", {"conversation_id": cid, "message_id": 1}),
              Event("message", {"conversation_id": other, "message_id": 2})]
    agent, _, _ = await logged_in(Role.AGENT)  # no queue assigned: every queue open to agents
    body = await _stream_body(agent, console, events, monkeypatch)
    assert [int(n) for n in re.findall(r'"conversation_id": (\d+)', body)] == [other], body
    supervisor, _, _ = await logged_in(Role.SUPERVISOR)
    body = await _stream_body(supervisor, console, events, monkeypatch)
    assert [int(n) for n in re.findall(r'"conversation_id": (\d+)', body)] == [cid, other]
