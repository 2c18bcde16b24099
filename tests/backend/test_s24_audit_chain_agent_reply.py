"""An agent's reply is evidenced by the digest of its text in `agent.replied`."""

from __future__ import annotations

from sqlalchemy import select, update

from backend.console import users
from backend.console.replies import send_agent_reply
from backend.container import Container
from backend.db.models import AuditEvent, Message
from backend.db.models.enums import Role
from backend.services import audit
from tests.console import conftest as console_fixtures
from tests.console.conftest import NOW, PASSWORD, Seeder

console_app = console_fixtures.console_app
console = console_fixtures.console
seed = console_fixtures.seed


async def _claimed_by_agent(container: Container, seed: Seeder) -> tuple[int, int]:
    cid = await seed("this is not my debt", intent="dispute_debt")
    async with container.sessions.begin() as session:
        agent = await users.create_agent(
            session, email="a@example.com", name="A", role=Role.AGENT, password=PASSWORD, now=NOW
        )
        await container.services["handoff"].open_handoff(session, cid, "dispute", now=NOW)
        await container.services["handoff"].claim(session, cid, agent_id=agent.id, now=NOW)
    return cid, agent.id


async def test_an_agent_reply_edited_later_is_named(console: Container, seed: Seeder) -> None:
    cid, agent_id = await _claimed_by_agent(console, seed)
    outcome = await send_agent_reply(
        console,
        cid,
        agent_id,
        "We are checking the dispute.",
        discusses_debt=False,
        recipient_verified=False,
        nonce="n1",
    )
    assert outcome.message_id is not None
    async with console.sessions() as session:
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "agent.replied"))
        stored = await session.get(Message, outcome.message_id)
    assert event is not None and stored is not None
    assert event.data["text_sha256"] == audit.text_digest(stored.text)
    assert "checking" not in str(event.data)
    async with console.sessions() as session:
        assert (await audit.verify_messages(session)).ok

    async with console.sessions.begin() as session:
        await session.execute(
            update(Message)
            .where(Message.id == outcome.message_id)
            .values(text="Pay now or we will sue")
        )
    async with console.sessions() as session:
        result = await audit.verify_messages(session)

    assert [(b.message_id, b.event_id) for b in result.breaks] == [(outcome.message_id, event.id)]
