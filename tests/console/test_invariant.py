"""The handoff invariant: once a person is asked for, nothing the debtor sends lets the bot talk."""

from __future__ import annotations

import pytest

from backend.container import Container
from backend.db.models import Conversation
from backend.services.handoff import HandoffService, agent_actor, bot_may_speak
from backend.services.inbox import store_inbound
from bot.messages import ConversationKey, InboundMessage
from tests.console.conftest import NOW, Seeder

DEBTOR_SAYS = (
    "STOP", "START", "HELP", "I want to pay now", "bot please", "talk to the bot", "hola",
    "I'm not a robot", "", "1", "yes", "my lawyer handles this", "🙂", "x" * 1500,
)


async def _debtor_writes(container: Container, handoffs: HandoffService, cid: int,
                         texts: tuple[str, ...]) -> list[bool]:
    """What the engine does on every turn: store, reopen when resolved, then ask."""
    answers = []
    for n, text in enumerate(texts):
        async with container.sessions.begin() as session:
            conversation = await session.get(Conversation, cid)
            assert conversation is not None
            await store_inbound(session, InboundMessage(
                ConversationKey(conversation.channel, conversation.address), text, f"INV{n}",
                NOW), now=NOW)
            await handoffs.reopen_on_debtor_message(session, cid, now=NOW)
            answers.append(bot_may_speak(conversation))
    return answers


@pytest.mark.parametrize("claimed", [False, True], ids=["queued", "agent-owned"])
async def test_after_handoff_the_bot_never_may_speak(
    container: Container, handoffs: HandoffService, seed: Seeder, claimed: bool
) -> None:
    cid = await seed()
    async with container.sessions.begin() as session:
        await handoffs.open_handoff(session, cid, "requested_agent", now=NOW)
        if claimed:
            from backend.console.users import create_agent
            from backend.db.models.enums import Role

            agent = await create_agent(session, email="a@x.com", name="A", role=Role.AGENT,
                                       password="a-long-enough-password", now=NOW)
            await handoffs.claim(session, cid, agent_id=agent.id, now=NOW)
    assert await _debtor_writes(container, handoffs, cid, DEBTOR_SAYS) == [False] * len(
        DEBTOR_SAYS)


async def test_a_new_handoff_request_while_waiting_changes_nothing(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    cid = await seed()
    async with container.sessions.begin() as session:
        first = await handoffs.open_handoff(session, cid, "complaint", now=NOW)
        second = await handoffs.open_handoff(session, cid, "requested_agent", now=NOW)
        conversation = await session.get(Conversation, cid)
        assert conversation is not None
    assert first.changed and not second.changed  # one acknowledgement, not two
    assert not bot_may_speak(conversation)


async def test_the_bot_speaks_again_only_after_hand_back_or_resolution(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    from backend.console.users import create_agent
    from backend.db.models.enums import Role

    cid = await seed()
    async with container.sessions.begin() as session:
        agent = await create_agent(session, email="a@x.com", name="A", role=Role.AGENT,
                                   password="a-long-enough-password", now=NOW)
        await handoffs.open_handoff(session, cid, "requested_agent", now=NOW)
        await handoffs.claim(session, cid, agent_id=agent.id, now=NOW)
        await handoffs.return_to_bot(session, cid, note="done", actor=agent_actor(agent.id),
                                     now=NOW)
    assert await _debtor_writes(container, handoffs, cid, ("thanks",)) == [True]
    async with container.sessions.begin() as session:
        await handoffs.open_handoff(session, cid, "requested_agent", now=NOW)
        await handoffs.claim(session, cid, agent_id=agent.id, now=NOW)
        await handoffs.resolve(session, cid, actor=agent_actor(agent.id), now=NOW)
    assert await _debtor_writes(container, handoffs, cid, ("one more thing",)) == [True]
