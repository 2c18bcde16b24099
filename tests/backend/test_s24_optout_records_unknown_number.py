"""S24: an unknown number's STOP and START stay on the record as that address's, after START
removes its unknown holder and another debtor's contact point takes the removed row's id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import String, cast, select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Account, AuditEvent, ContactPoint, Conversation, Message
from backend.services import audit
from backend.services.compliance.service import mask
from backend.services.imports.writer import upsert_accounts
from bot.clock import SettableClock
from bot.messages import ConversationKey
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox, RuleInterpreter

UNKNOWN = "+13105559999"  # not on file
OPT_EVENTS = ("contact.opted_out", "contact.opted_in")
UNKNOWN_HOLDER_REMOVED = "contact.unknown_holder_removed"


@pytest.fixture
async def stranger(container: Container, clock: SettableClock) -> Chat:
    clock.advance(timedelta(hours=4))  # 11:00 in Los Angeles, where the number's area code is
    outbox = CollectingOutbox()
    container.services["outbox"] = outbox
    container.interpreter = RuleInterpreter()
    install_conversations(None, container)
    return Chat(container, ConversationKey("sms", UNKNOWN), outbox)


async def _stop_then_start(stranger: Chat) -> int:
    """The examiner's sequence; returns the id of the contact point the STOP created."""
    await stranger.says("hi")
    assert [r.key for r in (await stranger.says("STOP")).replies] == ["optout.confirm"]
    async with stranger.container.sessions() as session:
        point_id = await session.scalar(
            select(ContactPoint.id).where(ContactPoint.address == UNKNOWN)
        )
    assert point_id is not None
    stranger.container.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
    assert [r.key for r in (await stranger.says("START")).replies] == ["optin.confirm"]
    return int(point_id)


async def _events(container: Container, *actions: str) -> list[AuditEvent]:
    async with container.sessions() as session:
        found = await session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.id)
        )
        return list(found.all())


async def _conversation(container: Container) -> Conversation:
    async with container.sessions() as session:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.address == UNKNOWN)
        )
    assert conversation is not None
    return conversation


async def _subject_address(container: Container, event: AuditEvent) -> tuple[str, str] | None:
    """The channel and address of the row the event names, as it stands now."""
    kinds: dict[str, Any] = {"conversation": Conversation, "contact_point": ContactPoint}
    if event.subject_type not in kinds or event.subject_id is None:
        return None
    async with container.sessions() as session:
        row = await session.get(kinds[event.subject_type], int(event.subject_id))
    return None if row is None else (row.channel, row.address)


async def test_the_stop_and_start_of_an_unknown_number_name_its_address(
    stranger: Chat,
) -> None:
    await _stop_then_start(stranger)
    conversation = await _conversation(stranger.container)
    events = await _events(stranger.container, *OPT_EVENTS)
    assert [e.action for e in events] == list(OPT_EVENTS)
    for event in events:
        assert await _subject_address(stranger.container, event) == ("sms", UNKNOWN)
        assert event.data["conversation_id"] == conversation.id
        assert event.data["address"] == mask(UNKNOWN) and UNKNOWN not in str(event.data)
    async with stranger.container.sessions() as session:  # the rest the examiner reads
        said = await session.scalars(
            select(Message.text).where(Message.conversation_id == conversation.id)
        )
        assert {"hi", "STOP", "START"} <= set(said.all())


async def test_a_reused_contact_point_id_does_not_take_the_unknown_numbers_events(
    stranger: Chat,
) -> None:
    removed_id = await _stop_then_start(stranger)
    container = stranger.container
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row(phone=None)], container.clock.now())
        debtor_id = await session.scalar(select(Account.debtor_id))
        assert debtor_id is not None
        # What SQLite did: the next debtor's new phone gets the removed row's id.
        session.add(
            ContactPoint(
                id=removed_id,
                debtor_id=debtor_id,
                channel="sms",
                address=PHONE,
                created_at=container.clock.now(),
            )
        )
    async with container.sessions() as session:
        # What the debtor's record shows (the console, an account's export): the events about
        # the debtor's contact points.
        theirs = await session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.subject_type == "contact_point",
                AuditEvent.subject_id.in_(
                    select(cast(ContactPoint.id, String)).where(ContactPoint.debtor_id == debtor_id)
                ),
            )
        )
        assert [action for action in theirs.all() if action in OPT_EVENTS] == []


async def test_start_leaves_a_tombstone_of_the_unknown_holders_contact_point(
    stranger: Chat,
) -> None:
    removed_id = await _stop_then_start(stranger)
    conversation = await _conversation(stranger.container)
    [stopped] = await _events(stranger.container, "contact.opted_out")
    [tombstone] = await _events(stranger.container, UNKNOWN_HOLDER_REMOVED)
    assert (tombstone.subject_type, tombstone.subject_id) == ("conversation", str(conversation.id))
    assert tombstone.data["contact_point_id"] == removed_id
    assert tombstone.data["opted_out_at"] == stopped.occurred_at.isoformat()
    assert (tombstone.data["channel"], tombstone.data["address"]) == ("sms", mask(UNKNOWN))
    async with stranger.container.sessions() as session:
        assert (await session.scalars(select(ContactPoint))).all() == []
        assert (await audit.verify(session)).ok


async def test_a_known_debtors_stop_and_start_name_the_debtor_and_conversation(
    container: Container,
) -> None:
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row()], container.clock.now())
    outbox = CollectingOutbox()
    container.services["outbox"] = outbox
    container.interpreter = RuleInterpreter()
    install_conversations(None, container)
    chat = Chat(container, ConversationKey("sms", PHONE), outbox)
    await chat.says("STOP")
    await chat.says("START")
    async with container.sessions() as session:
        debtor_id = await session.scalar(select(Account.debtor_id))
        conversation_id = await session.scalar(select(Conversation.id))
    for event in await _events(container, *OPT_EVENTS):
        assert event.subject_type == "contact_point"
        assert event.data["debtor_ids"] == [debtor_id]
        assert event.data["conversation_id"] == conversation_id
