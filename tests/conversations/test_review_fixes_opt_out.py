"""Review fixes: an opt-out from an address no account holds yet is remembered for that
address; START says what is true; the Spanish opt-out line names the keyword reminders use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import exists, select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Account, ContactPoint, Conversation, Debtor
from backend.services.compliance.rules import load_rules
from backend.services.compliance.service import ComplianceGate
from backend.services.imports.writer import upsert_accounts
from bot.clock import SettableClock
from bot.engine import state_key
from bot.messages import ConversationKey, OutboundMessage, Purpose
from bot.responses import RenderContext, Renderer
from tests.conversations.conftest import Chat, account_row
from tests.conversations.fakes import CollectingOutbox, RuleInterpreter

UNKNOWN = "+12065559877"


@pytest.fixture
async def stranger(container: Container, clock: SettableClock) -> Chat:
    clock.advance(timedelta(hours=3))  # 10:00 in Seattle, where the number's area code is
    outbox = CollectingOutbox()
    container.services["outbox"] = outbox
    container.interpreter = RuleInterpreter()
    install_conversations(None, container)
    return Chat(container, ConversationKey("sms", UNKNOWN), outbox)


async def _import(container: Container) -> int:
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row(phone=UNKNOWN, external_ref="NEW-1")],
                              container.clock.now())
    async with container.sessions() as session:
        found = await session.scalar(select(Account.id).where(Account.external_ref == "NEW-1"))
    assert found is not None
    return int(found)


async def _reminder(container: Container, account_id: int) -> tuple[bool, str | None]:
    """What the gate says, now, of a reminder to the account on that number."""
    reminder = OutboundMessage(key=ConversationKey("sms", UNKNOWN), text="Hello",
                               purpose=Purpose.REMINDER, account_id=account_id,
                               sender="reminder")
    async with container.sessions() as session:
        decision = await ComplianceGate(load_rules()).preview(
            session, reminder, None, container.clock.now())
    return decision.allowed, decision.reason


@pytest.mark.parametrize("word", ["baja", "STOP"])
async def test_an_unknown_numbers_opt_out_holds_for_an_account_imported_later(
    stranger: Chat, word: str,
) -> None:
    assert [r.key for r in (await stranger.says(word)).replies] == ["optout.confirm"]
    account_id = await _import(stranger.container)
    assert await _reminder(stranger.container, account_id) == (False, "opted_out")
    assert (await stranger.says("hola")).replies == []
    started = await stranger.says("START")
    assert [r.key for r in started.replies] == ["optin.confirm"]
    assert await _reminder(stranger.container, account_id) == (True, "allowed")
    async with stranger.container.sessions() as session:
        holders = (await session.scalars(  # nobody holds the number but the debtor now
            select(Debtor.id).where(~exists().where(Account.debtor_id == Debtor.id)))).all()
        points = (await session.scalars(select(ContactPoint))).all()
    assert holders == [] and [p.debtor_id for p in points if p.opted_out_at] == []
    again = await stranger.says("hi")  # the number now reaches the debtor who holds it
    assert [r.key for r in again.replies] == ["identity.ask.date_of_birth"]


async def test_the_opt_out_is_kept_before_any_account_exists(stranger: Chat) -> None:
    await stranger.says("STOP")
    async with stranger.container.sessions() as session:
        [point] = (await session.scalars(select(ContactPoint))).all()
    assert (point.channel, point.address) == ("sms", UNKNOWN)
    assert point.opted_out_at is not None and not point.consent


@pytest.mark.parametrize(("word", "locale"), [("UNSTOP", "en"), ("START", "es")])
async def test_start_from_a_number_that_never_opted_out_is_told_the_truth(
    stranger: Chat, word: str, locale: str,
) -> None:
    out = await stranger.says(word)
    assert [r.key for r in out.replies] == ["optin.confirm"]
    renderer = Renderer()
    text = renderer.sentence("optin.confirm", {},
                             RenderContext(locale=locale, currency="USD", channel="sms"))
    for untrue in ("again", "de nuevo"):
        assert untrue not in text and untrue not in out.replies[0].text


async def test_start_from_an_unknown_number_lifts_what_is_kept(stranger: Chat) -> None:
    await stranger.says("STOP")
    async with stranger.container.sessions() as session:
        conversation_id = await session.scalar(select(Conversation.id))
    assert conversation_id is not None
    await stranger.engine.states.set(state_key(conversation_id), {}, 60)  # a week later
    assert [r.key for r in (await stranger.says("START")).replies] == ["optin.confirm"]
    async with stranger.container.sessions() as session:
        assert (await session.scalars(select(ContactPoint))).all() == []


def test_the_spanish_opt_out_line_names_stop_as_the_reminders_do() -> None:
    from backend.services.reminders import reminder_text

    renderer = Renderer()
    assert "STOP" in reminder_text("es", None)
    for channel in ("sms", "whatsapp", "telegram"):
        line = renderer.sentence(f"optout_line.{channel}", {},
                                 RenderContext(locale="es", currency="USD", channel=channel))
        assert "STOP" in line and "BAJA" not in line


async def test_once_the_number_is_imported_its_holder_is_reached_though_still_opted_out(
    stranger: Chat,
) -> None:
    await stranger.says("STOP")
    account_id = await _import(stranger.container)
    # Opted out still, so the bot says nothing, but a lawyer is the account's business now.
    assert (await stranger.says("talk to my lawyer Jane Doe at 555-0100")).replies == []
    async with stranger.container.sessions() as session:
        account = await session.get(Account, account_id)
        conversation = await session.scalar(select(Conversation))
    assert account is not None and account.attorney
    assert conversation is not None and conversation.account_id == account_id
