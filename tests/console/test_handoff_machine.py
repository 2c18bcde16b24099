"""The ownership state machine: every transition, the illegal ones, reopen, audit and events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, Conversation, ConversationNote, Handoff
from backend.services import audit
from backend.services.events import MemoryEventBus, drain_published
from backend.services.handoff import (
    HandoffService,
    IllegalTransition,
    NoteRequired,
    NotYourConversation,
    agent_actor,
    bot_may_speak,
)
from tests.console.conftest import NOW, Seeder

pytestmark = pytest.mark.usefixtures("container")


async def _agent(container: Container, email: str = "a@example.com") -> int:
    from backend.console.users import create_agent
    from backend.db.models.enums import Role

    async with container.sessions.begin() as session:
        agent = await create_agent(session, email=email, name=email, role=Role.AGENT,
                                   password="a-long-enough-password", now=NOW)
    return agent.id


async def _state(container: Container, conversation_id: int) -> tuple[str, int | None]:
    async with container.sessions() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.ownership, conversation.agent_id


async def _actions(container: Container, conversation_id: int) -> list[str]:
    async with container.sessions() as session:
        rows = await session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_type == "conversation",
                                            AuditEvent.subject_id == str(conversation_id))
            .order_by(AuditEvent.id))
        return [a for a in rows if a.startswith("handoff.")]


async def test_open_queues_by_reason_with_the_queue_priority(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    cid = await seed()
    async with container.sessions.begin() as session:
        moved = await handoffs.open_handoff(session, cid, "attorney", now=NOW, note="says lawyer")
    assert (moved.before, moved.after, moved.queue, moved.changed) == ("bot", "queued", "legal",
                                                                       True)
    async with container.sessions() as session:
        handoff = await session.get(Handoff, moved.handoff_id)
    assert handoff is not None and handoff.priority == 3 and handoff.note == "says lawyer"
    assert await _state(container, cid) == ("queued", None)
    assert await _actions(container, cid) == ["handoff.opened"]


@pytest.mark.parametrize(("reason", "queue"), [
    ("dispute", "disputes"), ("hardship", "hardship"), ("attorney", "legal"),
    ("bankruptcy", "legal"), ("deceased", "legal"), ("complaint", "complaints"),
    ("already_paid", "payments"), ("reconciliation", "payments"),
    ("requested_agent", "general"), ("something_new", "general"),
])
async def test_routing_rules_send_each_reason_to_its_team(
    container: Container, handoffs: HandoffService, seed: Seeder, reason: str, queue: str
) -> None:
    cid = await seed()
    async with container.sessions.begin() as session:
        moved = await handoffs.open_handoff(session, cid, reason, now=NOW)
    assert moved.queue == queue


async def test_an_explicit_queue_and_a_higher_priority_win(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    cid = await seed()
    async with container.sessions.begin() as session:
        moved = await handoffs.open_handoff(session, cid, "error", now=NOW, queue="payments",
                                            priority=5, error_id="err-42")
        handoff = await session.get(Handoff, moved.handoff_id)
    assert moved.queue == "payments" and handoff is not None
    assert (handoff.priority, handoff.error_id) == (5, "err-42")


async def test_opening_twice_acknowledges_once_and_only_escalates(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    cid = await seed()
    async with container.sessions.begin() as session:
        first = await handoffs.open_handoff(session, cid, "requested_agent", now=NOW)
    async with container.sessions.begin() as session:
        same = await handoffs.open_handoff(session, cid, "requested_agent", now=NOW)
        louder = await handoffs.open_handoff(session, cid, "attorney", now=NOW)
        handoff = await session.get(Handoff, first.handoff_id)
    assert not same.changed and not louder.changed
    assert handoff is not None and handoff.priority == 3
    assert handoff.queue == "legal"  # still waiting, so it moves to the louder reason's queue
    assert await _actions(container, cid) == ["handoff.opened", "handoff.escalated"]


async def test_claim_then_return_to_bot_with_a_note(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    cid, agent = await seed(), await _agent(container)
    async with container.sessions.begin() as session:
        await handoffs.open_handoff(session, cid, "hardship", now=NOW)
    async with container.sessions.begin() as session:
        claimed = await handoffs.claim(session, cid, agent_id=agent, now=NOW + timedelta(minutes=3))
    assert (claimed.before, claimed.after) == ("queued", "agent")
    assert await _state(container, cid) == ("agent", agent)
    async with container.sessions.begin() as session:
        back = await handoffs.return_to_bot(session, cid, note="agreed $50 on Friday",
                                            actor=agent_actor(agent), now=NOW)
        handoff = await session.get(Handoff, back.handoff_id)
        note = await session.scalar(select(ConversationNote))
    assert (back.before, back.after) == ("agent", "bot")
    assert handoff is not None and handoff.status == "returned" and handoff.closed_at == NOW
    assert handoff.claimed_at == NOW + timedelta(minutes=3) and handoff.agent_id == agent
    assert note is not None and (note.kind, note.text) == ("handback", "agreed $50 on Friday")
    assert await _state(container, cid) == ("bot", None)
    assert await _actions(container, cid) == ["handoff.opened", "handoff.claimed",
                                              "handoff.returned"]


async def test_claiming_ones_own_conversation_again_changes_nothing(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    cid, agent = await seed(), await _agent(container)
    async with container.sessions.begin() as session:
        await handoffs.open_handoff(session, cid, "dispute", now=NOW)
        await handoffs.claim(session, cid, agent_id=agent, now=NOW)
        again = await handoffs.claim(session, cid, agent_id=agent, now=NOW)
    assert not again.changed


async def test_a_second_agent_cannot_take_a_claimed_conversation(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    cid = await seed()
    first, second = await _agent(container, "a@x.com"), await _agent(container, "b@x.com")
    async with container.sessions.begin() as session:
        await handoffs.open_handoff(session, cid, "dispute", now=NOW)
        await handoffs.claim(session, cid, agent_id=first, now=NOW)
    with pytest.raises(IllegalTransition):
        async with container.sessions.begin() as session:
            await handoffs.claim(session, cid, agent_id=second, now=NOW)


async def test_a_stale_read_loses_the_claim_race(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    cid = await seed()
    first, second = await _agent(container, "a@x.com"), await _agent(container, "b@x.com")
    async with container.sessions.begin() as session:
        await handoffs.open_handoff(session, cid, "dispute", now=NOW)
    async with container.sessions() as slow:
        assert (await slow.get(Conversation, cid)).ownership == "queued"  # type: ignore[union-attr]
        async with container.sessions.begin() as fast:
            await handoffs.claim(fast, cid, agent_id=first, now=NOW)
        with pytest.raises(IllegalTransition):
            await handoffs.claim(slow, cid, agent_id=second, now=NOW)
        await slow.rollback()
    assert await _state(container, cid) == ("agent", first)


@pytest.mark.parametrize(("setup", "action"), [
    ([], "claim"), ([], "return"), ([], "resolve"),
    (["open", "claim", "resolve"], "claim"), (["open", "claim", "resolve"], "return"),
    (["open", "claim", "resolve"], "resolve"),
])
async def test_illegal_transitions_raise_and_change_nothing(
    container: Container, handoffs: HandoffService, seed: Seeder, setup: list[str], action: str
) -> None:
    cid, agent = await seed(), await _agent(container)
    actor = agent_actor(agent, supervisor=True)
    steps = {
        "open": lambda s: handoffs.open_handoff(s, cid, "dispute", now=NOW),
        "claim": lambda s: handoffs.claim(s, cid, agent_id=agent, now=NOW),
        "return": lambda s: handoffs.return_to_bot(s, cid, note="n", actor=actor, now=NOW),
        "resolve": lambda s: handoffs.resolve(s, cid, actor=actor, now=NOW),
    }
    for step in setup:
        async with container.sessions.begin() as session:
            await steps[step](session)
    before = await _state(container, cid)
    with pytest.raises(IllegalTransition) as raised:
        async with container.sessions.begin() as session:
            await steps[action](session)
    assert raised.value.current == before[0]
    assert await _state(container, cid) == before


async def test_returning_needs_a_note(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    cid, agent = await seed(), await _agent(container)
    async with container.sessions.begin() as session:
        await handoffs.open_handoff(session, cid, "dispute", now=NOW)
        await handoffs.claim(session, cid, agent_id=agent, now=NOW)
    with pytest.raises(NoteRequired):
        async with container.sessions.begin() as session:
            await handoffs.return_to_bot(session, cid, note="  ", actor=agent_actor(agent),
                                         now=NOW)


async def test_only_the_owner_or_a_supervisor_hands_back(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    cid = await seed()
    owner, other = await _agent(container, "a@x.com"), await _agent(container, "b@x.com")
    async with container.sessions.begin() as session:
        await handoffs.open_handoff(session, cid, "dispute", now=NOW)
    with pytest.raises(NotYourConversation):  # queued: claim first
        async with container.sessions.begin() as session:
            await handoffs.resolve(session, cid, actor=agent_actor(other), now=NOW)
    async with container.sessions.begin() as session:
        await handoffs.claim(session, cid, agent_id=owner, now=NOW)
    with pytest.raises(NotYourConversation):
        async with container.sessions.begin() as session:
            await handoffs.return_to_bot(session, cid, note="x", actor=agent_actor(other),
                                         now=NOW)
    async with container.sessions.begin() as session:
        done = await handoffs.resolve(session, cid, actor=agent_actor(other, supervisor=True),
                                      now=NOW, note="closed by supervisor")
    assert done.after == "resolved"


async def test_a_debtor_writing_after_resolution_reopens_to_the_bot(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    cid, agent = await seed(), await _agent(container)
    async with container.sessions.begin() as session:
        await handoffs.open_handoff(session, cid, "requested_agent", now=NOW)
        await handoffs.claim(session, cid, agent_id=agent, now=NOW)
        await handoffs.resolve(session, cid, actor=agent_actor(agent), now=NOW)
    async with container.sessions.begin() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None and conversation.agent_id == agent
        reopened = await handoffs.reopen_on_debtor_message(session, cid, now=NOW)
        assert bot_may_speak(conversation)
    assert (reopened.before, reopened.after, reopened.changed) == ("resolved", "bot", True)
    # Not the previous agent's any more (chatwoot#4008).
    assert await _state(container, cid) == ("bot", None)
    assert (await _actions(container, cid))[-2:] == ["handoff.resolved", "handoff.reopened"]


async def test_a_stop_state_sends_a_reopened_conversation_to_a_person(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    cid, agent = await seed(), await _agent(container)
    async with container.sessions.begin() as session:
        await handoffs.open_handoff(session, cid, "requested_agent", now=NOW)
        await handoffs.claim(session, cid, agent_id=agent, now=NOW)
        await handoffs.resolve(session, cid, actor=agent_actor(agent), now=NOW)
        conversation = await session.get(Conversation, cid)
        assert conversation is not None
        account = await session.get(Account, conversation.account_id)
        assert account is not None
        account.bankruptcy = True
    async with container.sessions.begin() as session:
        reopened = await handoffs.reopen_on_debtor_message(session, cid, now=NOW)
    assert (reopened.after, reopened.queue) == ("queued", "legal")


async def test_reopen_leaves_other_states_alone(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    cid = await seed()
    async with container.sessions.begin() as session:
        idle = await handoffs.reopen_on_debtor_message(session, cid, now=NOW)
        await handoffs.open_handoff(session, cid, "dispute", now=NOW)
        waiting = await handoffs.reopen_on_debtor_message(session, cid, now=NOW)
    assert not idle.changed and idle.after == "bot"
    assert not waiting.changed and waiting.after == "queued"


async def test_every_change_is_on_the_verified_audit_chain(
    container: Container, handoffs: HandoffService, seed: Seeder
) -> None:
    cid, agent = await seed(), await _agent(container)
    async with container.sessions.begin() as session:
        await handoffs.open_handoff(session, cid, "complaint", now=NOW)
        await handoffs.claim(session, cid, agent_id=agent, now=NOW)
        await handoffs.resolve(session, cid, actor=agent_actor(agent), now=NOW)
        await handoffs.reopen_on_debtor_message(session, cid, now=NOW)
    async with container.sessions() as session:
        events = list(await session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("handoff.%")).order_by(AuditEvent.id)))
        assert (await audit.verify(session)).ok
    assert [(e.actor, e.data["from"], e.data["to"]) for e in events] == [
        ("bot", "bot", "queued"), (f"agent:{agent}", "queued", "agent"),
        (f"agent:{agent}", "agent", "resolved"), ("system", "resolved", "bot"),
    ]


async def test_events_go_out_after_commit_and_never_after_rollback(
    container: Container, handoffs: HandoffService, bus: MemoryEventBus, seed: Seeder
) -> None:
    cid, agent = await seed(), await _agent(container)
    async with bus.subscribe() as events:
        async with container.sessions() as session:
            await handoffs.open_handoff(session, cid, "dispute", now=NOW)
            await drain_published()
            assert await events.next(within=0.05) is None
            await session.rollback()
        async with container.sessions.begin() as session:
            await handoffs.open_handoff(session, cid, "dispute", now=NOW)
            await handoffs.claim(session, cid, agent_id=agent, now=NOW)
        await drain_published()
        opened, claimed = await events.next(within=1), await events.next(within=1)
    assert opened is not None and claimed is not None
    assert (opened.kind, opened.data["queue"], opened.data["conversation_id"]) == (
        "handoff.opened", "disputes", cid)
    assert (claimed.kind, claimed.data["agent_id"]) == ("handoff.claimed", agent)
