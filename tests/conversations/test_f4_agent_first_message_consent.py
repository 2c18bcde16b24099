"""An agent's first message to an address that never wrote on the channel is outreach: it needs
consent (compliance.md C item 42, D item 53); an answer to a debtor who wrote there does not."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from backend.container import Container
from backend.db.models import ContactPoint
from backend.services.compliance.facts import ContactState, GateFacts
from backend.services.compliance.gate import decide
from backend.services.compliance.rules import load_rules
from backend.services.compliance.service import ComplianceGate
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.conversations.conftest import PHONE, Chat

RULES = load_rules()
NOON_NY = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # 12:00 in New York
SMS = ConversationKey("sms", "+12125551234")
WHATSAPP = ConversationKey("whatsapp", "+12125551234")
NO_CONSENT = ContactState(opted_out_at=None, consent=False, wrong_party=False)
CONSENTED = replace(NO_CONSENT, consent=True)


def _facts(**kw: object) -> GateFacts:
    base = GateFacts(
        zones=("America/New_York",), regions=("NY",), contact=NO_CONSENT, conversation_id=1
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def _agent(key: ConversationKey = SMS, **kw: object) -> OutboundMessage:
    return OutboundMessage(
        key=key,
        text="Hello, this is Sam.",
        purpose=Purpose.AGENT,
        conversation_id=1,
        account_id=1,
        sender="agent:1",
        **kw,
    )  # type: ignore[arg-type]


def _wrote(ago: timedelta) -> dict[str, object]:
    return {"latest_inbound_id": 7, "latest_inbound_at": NOON_NY - ago}


def test_an_agents_first_message_to_an_address_without_consent_is_blocked() -> None:
    decision = decide(_agent(), _facts(), RULES, NOON_NY)
    assert (decision.status, decision.reason) == ("blocked", "no_consent")
    assert decision.rule == "compliance.md C item 42 / D item 53"


def test_an_agents_first_message_to_an_unknown_address_is_blocked() -> None:
    assert decide(_agent(), _facts(contact=None), RULES, NOON_NY).reason == "no_consent"


def test_an_agents_first_whatsapp_template_without_an_opt_in_is_blocked() -> None:
    template = _agent(WHATSAPP, template="parley_reminder")
    assert decide(template, _facts(), RULES, NOON_NY).reason == "no_consent"


def test_an_agents_first_message_with_consent_goes() -> None:
    assert decide(_agent(), _facts(contact=CONSENTED), RULES, NOON_NY).allowed


def test_an_agents_answer_to_a_debtor_who_just_wrote_goes_without_consent() -> None:
    answer = _agent(in_reply_to=7)
    assert decide(answer, _facts(**_wrote(timedelta(minutes=5))), RULES, NOON_NY).allowed


def test_an_address_that_wrote_long_ago_needs_no_consent_for_an_agents_message() -> None:
    assert decide(_agent(), _facts(**_wrote(timedelta(days=30))), RULES, NOON_NY).allowed


def test_the_whatsapp_window_still_applies_to_an_address_that_wrote() -> None:
    wrote = _facts(**_wrote(timedelta(days=3)))
    assert decide(_agent(WHATSAPP), wrote, RULES, NOON_NY).reason == "whatsapp_window_closed"
    templated = decide(_agent(WHATSAPP, template="parley_reminder"), wrote, RULES, NOON_NY)
    assert templated.allowed and templated.use_template
    fresh = _facts(**_wrote(timedelta(hours=2)))
    assert decide(_agent(WHATSAPP), fresh, RULES, NOON_NY).allowed


def test_a_bot_reply_still_needs_no_consent() -> None:
    reply = replace(_agent(), purpose=Purpose.REPLY, sender="bot", in_reply_to=7)
    assert decide(reply, _facts(**_wrote(timedelta(minutes=5))), RULES, NOON_NY).allowed


# Through the facts read from the database: the latest inbound on the address and channel.


async def _without_consent(container: Container, channel: str = "sms") -> None:
    async with container.sessions.begin() as session:
        await session.execute(
            update(ContactPoint)
            .where(ContactPoint.channel == channel, ContactPoint.address == PHONE)
            .values(consent=False)
        )


async def _agent_verdict(
    container: Container,
    account_id: int,
    channel: str = "sms",
) -> tuple[str, str]:
    outbound = OutboundMessage(
        key=ConversationKey(channel, PHONE),
        text="Hello, this is Sam.",
        purpose=Purpose.AGENT,
        account_id=account_id,
        sender="agent:1",
    )
    async with container.sessions() as session:
        decision = await ComplianceGate(RULES).preview(
            session, outbound, None, container.clock.now()
        )
    return decision.status, decision.reason


async def test_a_number_on_file_without_consent_gets_no_agent_opener(
    chat: Chat,
    account_id: int,
) -> None:
    await _without_consent(chat.container)
    assert await _agent_verdict(chat.container, account_id) == ("blocked", "no_consent")


async def test_a_number_on_file_with_consent_gets_the_agent_opener(
    chat: Chat,
    account_id: int,
) -> None:
    assert await _agent_verdict(chat.container, account_id) == ("pending", "allowed")


async def test_once_the_debtor_wrote_on_the_channel_the_agent_may_answer(
    chat: Chat,
    account_id: int,
) -> None:
    await _without_consent(chat.container)
    await chat.store("hello?")
    assert await _agent_verdict(chat.container, account_id) == ("pending", "allowed")


async def test_writing_on_another_channel_is_no_consent_for_this_one(
    chat: Chat,
    account_id: int,
) -> None:
    await _without_consent(chat.container)
    on_whatsapp = Chat(chat.container, ConversationKey("whatsapp", PHONE), chat.outbox)
    await on_whatsapp.store("hello?")
    assert await _agent_verdict(chat.container, account_id) == ("blocked", "no_consent")
