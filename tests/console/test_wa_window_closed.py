"""A WhatsApp conversation whose 24-hour window closed: the page says when, and the agent can
still answer, by the approved template or by SMS, both through the outbox and its gate."""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from backend.container import Container
from backend.db.models import AuditEvent, ContactPoint, Conversation, Message
from backend.db.models.enums import Role
from backend.services.compliance.rules import load_rules
from backend.services.compliance.service import ComplianceGate
from backend.services.delivery import envelope
from backend.services.demo import demo_rows
from backend.services.imports.writer import upsert_accounts
from backend.services.inbox import store_inbound
from backend.services.outbox import SqlOutbox
from backend.services.reminders import reminder_text
from bot.channels.base import ChannelLimits
from bot.clock import SettableClock
from bot.messages import ConversationKey, InboundMessage
from bot.responses import Renderer
from bot.state import MemoryStateStore
from tests.console.conftest import NOW, LoggedIn

# 11:00 in Florida the next day: past the window, inside the allowed hours.
LATER = NOW + timedelta(hours=25)


class _StoredNotSent(SqlOutbox):
    """The real gate and storage; the provider send is left out."""

    async def send(self, message_ids: list[int]) -> None:
        return None


@dataclass(frozen=True)
class _Adapter:
    """Only what the console reads of an adapter."""

    channel: str
    provider: str
    limits: ChannelLimits = ChannelLimits(max_chars=1600, max_parts=2)


def _real_outbox(console: Container, whatsapp_provider: str = "meta") -> None:
    console.services["renderer"], console.services["state_store"] = Renderer(), MemoryStateStore()
    gate = ComplianceGate(load_rules())
    console.services["gate"] = gate
    console.services["adapters"] = {"whatsapp": _Adapter("whatsapp", whatsapp_provider),
                                    "sms": _Adapter("sms", "twilio")}
    console.services["outbox"] = _StoredNotSent(console.sessions, console.clock, gate,
                                                adapters={})


async def _whatsapp_claimed(console: Container, agent_id: int, index: int = 0) -> int:
    """A debtor (row `index` of the demo: 0 English, 1 Spanish) who asked for a person on
    WhatsApp at NOW; the agent owns the conversation."""
    row = demo_rows(index + 1, NOW.date())[index]
    row = replace(row, whatsapp=row.phone, whatsapp_opt_in_at=NOW - timedelta(days=30))
    async with console.sessions.begin() as session:
        await upsert_accounts(session, [row], NOW)
        stored = await store_inbound(session, InboundMessage(
            ConversationKey("whatsapp", row.phone or ""), "I want to talk to a person",
            f"wamid.{index}", NOW), now=NOW)
        handoffs = console.services["handoff"]
        await handoffs.open_handoff(session, stored.conversation_id, "request_agent", now=NOW)
        await handoffs.claim(session, stored.conversation_id, agent_id=agent_id, now=NOW)
    return stored.conversation_id


def _later(console: Container) -> None:
    clock = console.clock
    assert isinstance(clock, SettableClock)
    clock.set(LATER)


async def _post(client: httpx.AsyncClient, path: str, **form: str) -> httpx.Response:
    response = await client.post(path, data=form)
    assert response.status_code == 303, response.text
    return response


async def _agent_messages(console: Container, channel: str) -> list[Message]:
    async with console.sessions() as session:
        rows = await session.scalars(select(Message).where(
            Message.channel == channel, Message.sender.like("agent:%")).order_by(Message.id))
        return list(rows.all())


async def _audited(console: Container, action: str) -> list[AuditEvent]:
    async with console.sessions() as session:
        return list((await session.scalars(
            select(AuditEvent).where(AuditEvent.action == action))).all())


async def test_the_page_says_when_the_window_closed_and_offers_both_ways(
    console: Container, logged_in: LoggedIn
) -> None:
    _real_outbox(console)
    client, _, agent_id = await logged_in(Role.AGENT)
    cid = await _whatsapp_claimed(console, agent_id)
    inside = (await client.get(f"/console/conversations/{cid}")).text
    assert "WhatsApp window closed" not in inside
    _later(console)
    page = (await client.get(f"/console/conversations/{cid}")).text
    assert "WhatsApp's 24-hour window closed at" in page
    assert f'datetime="{(NOW + timedelta(hours=24)).isoformat()}"' in page
    assert "Send the approved template" in page and 'id="template-form"' in page
    assert "Reply by SMS instead" in page and 'id="sms-form"' in page


async def test_the_template_goes_through_the_outbox_in_the_debtors_language(
    console: Container, logged_in: LoggedIn
) -> None:
    _real_outbox(console)
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _whatsapp_claimed(console, agent_id, index=1)  # a Spanish-speaking debtor
    _later(console)
    response = await _post(client, f"/console/conversations/{cid}/whatsapp-template",
                           csrf_token=token, nonce="t1")
    assert "notice=template_queued" in response.headers["location"]
    page = (await client.get(response.headers["location"])).text
    assert "Approved template queued for delivery." in page
    [message] = await _agent_messages(console, "whatsapp")
    sent = envelope(message)
    assert (message.conversation_id, message.delivery_status) == (cid, "pending")
    assert (sent["template"], sent["use_template"], sent["language"]) == (
        "parley_reminder", True, "es")
    assert message.text == reminder_text("es", None)
    [event] = await _audited(console, "agent.template_sent")
    assert event.data["message_id"] == message.id and event.data["status"] == "pending"
    # The same form posted again sends nothing more.
    await _post(client, f"/console/conversations/{cid}/whatsapp-template", csrf_token=token,
                nonce="t1")
    assert len(await _agent_messages(console, "whatsapp")) == 1


async def test_the_gate_still_decides_the_template(
    console: Container, logged_in: LoggedIn
) -> None:
    _real_outbox(console)
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _whatsapp_claimed(console, agent_id)
    async with console.sessions.begin() as session:
        await session.execute(update(ContactPoint).where(ContactPoint.channel == "whatsapp")
                              .values(opted_out_at=NOW))
    _later(console)
    response = await _post(client, f"/console/conversations/{cid}/whatsapp-template",
                           csrf_token=token, nonce="t2")
    assert "notice=blocked" in response.headers["location"]
    page = (await client.get(response.headers["location"])).text
    assert "The debtor opted out on this address." in page
    [message] = await _agent_messages(console, "whatsapp")
    assert (message.delivery_status, message.error_code) == ("blocked", "opted_out")


async def test_a_typed_reply_is_refused_and_the_refusal_points_to_the_two_ways(
    console: Container, logged_in: LoggedIn
) -> None:
    _real_outbox(console)
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _whatsapp_claimed(console, agent_id)
    _later(console)
    response = await _post(client, f"/console/conversations/{cid}/reply", csrf_token=token,
                           text="Hello, I am Ana from the team.", nonce="r1")
    page = html.unescape((await client.get(response.headers["location"])).text)
    assert "only an approved template can be sent" in page
    assert 'Use "Send the approved template" or "Reply by SMS instead"' in page


async def test_the_reply_by_sms_goes_to_the_accounts_sms_conversation_now_the_agents(
    console: Container, logged_in: LoggedIn
) -> None:
    _real_outbox(console)
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _whatsapp_claimed(console, agent_id)
    _later(console)
    response = await _post(client, f"/console/conversations/{cid}/reply-by-sms",
                           csrf_token=token, text="Hello, I am Ana from the team.", nonce="s1")
    [message] = await _agent_messages(console, "sms")
    async with console.sessions() as session:
        sms = await session.get(Conversation, message.conversation_id)
        whatsapp = await session.get(Conversation, cid)
    assert sms is not None and whatsapp is not None and sms.id != cid
    assert (sms.channel, sms.address, sms.account_id) == ("sms", whatsapp.address,
                                                          whatsapp.account_id)
    # The debtor's answer by SMS reaches the agent, not the bot.
    assert (sms.ownership, sms.agent_id) == ("agent", agent_id)
    assert message.delivery_status == "pending" and message.text.startswith("Hello, I am Ana")
    assert "STOP" in message.text  # the SMS opt-out line
    location = response.headers["location"]
    assert location.startswith(f"/console/conversations/{sms.id}?") and "sms_queued" in location
    page = (await client.get(location)).text
    assert "Reply by SMS queued for delivery." in page
    [event] = await _audited(console, "agent.switched_to_sms")
    assert event.data["sms_conversation_id"] == sms.id
    assert whatsapp.address not in str(event.data)  # only the last four digits


async def test_sms_is_not_offered_to_a_number_that_opted_out(
    console: Container, logged_in: LoggedIn
) -> None:
    _real_outbox(console)
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _whatsapp_claimed(console, agent_id)
    async with console.sessions.begin() as session:
        await session.execute(update(ContactPoint).where(ContactPoint.channel == "sms")
                              .values(opted_out_at=NOW))
    _later(console)
    page = (await client.get(f"/console/conversations/{cid}")).text
    assert 'id="sms-form"' not in page
    assert "The debtor opted out of SMS on their number, so SMS is not offered." in page
    response = await _post(client, f"/console/conversations/{cid}/reply-by-sms",
                           csrf_token=token, text="Hello.", nonce="s2")
    assert response.headers["location"] == f"/console/conversations/{cid}?notice=sms_opted_out"
    page = (await client.get(response.headers["location"])).text
    assert "so SMS is not offered. Nothing was sent." in page
    assert await _agent_messages(console, "sms") == []


async def test_neither_way_is_possible_and_the_page_says_why(
    console: Container, logged_in: LoggedIn
) -> None:
    _real_outbox(console, whatsapp_provider="twilio")  # and no Content SID configured
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _whatsapp_claimed(console, agent_id)
    async with console.sessions.begin() as session:
        await session.execute(update(ContactPoint).where(ContactPoint.channel == "sms")
                              .values(consent=False))
    _later(console)
    page = html.unescape((await client.get(f"/console/conversations/{cid}")).text)
    assert 'id="template-form"' not in page and 'id="sms-form"' not in page
    assert "No approved template is configured" in page
    assert "There is no consent to text the debtor's SMS number" in page
    response = await _post(client, f"/console/conversations/{cid}/whatsapp-template",
                           csrf_token=token, nonce="t3")
    assert "notice=no_template_configured" in response.headers["location"]
    assert await _agent_messages(console, "whatsapp") == []


async def test_inside_the_window_the_agent_just_replies(
    console: Container, logged_in: LoggedIn
) -> None:
    _real_outbox(console)
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _whatsapp_claimed(console, agent_id)
    response = await _post(client, f"/console/conversations/{cid}/whatsapp-template",
                           csrf_token=token, nonce="t4")
    assert "notice=window_open" in response.headers["location"]
    response = await _post(client, f"/console/conversations/{cid}/reply-by-sms",
                           csrf_token=token, text="Hello.", nonce="s4")
    assert "notice=window_open" in response.headers["location"]
    assert await _agent_messages(console, "whatsapp") == []
    assert await _agent_messages(console, "sms") == []


async def test_sms_is_not_offered_when_the_number_opted_out_on_whatsapp(
    console: Container, logged_in: LoggedIn
) -> None:
    _real_outbox(console)
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _whatsapp_claimed(console, agent_id)
    async with console.sessions.begin() as session:  # "ya no me escriban" on WhatsApp
        await session.execute(update(ContactPoint).where(ContactPoint.channel == "whatsapp")
                              .values(opted_out_at=NOW))
    _later(console)
    page = (await client.get(f"/console/conversations/{cid}")).text
    assert 'id="sms-form"' not in page
    assert "The debtor opted out on WhatsApp, which stops SMS to the same number too" in page
    response = await _post(client, f"/console/conversations/{cid}/reply-by-sms",
                           csrf_token=token, text="Hello.", nonce="s3")
    assert response.headers["location"] == (
        f"/console/conversations/{cid}?notice=number_opted_out")
    assert await _agent_messages(console, "sms") == []
