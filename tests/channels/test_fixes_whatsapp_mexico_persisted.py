"""The "521" form WhatsApp gives a Mexican mobile outlives the process that heard it."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from backend.channels_wiring import build_adapters
from backend.container import Container
from backend.db.models import AuditEvent
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.channels.helpers import meta_post, payload, seed_debtor, twilio_post
from tests.fakes.server import FakeServer

STORED = "+525512345678"  # E.164, as the account import stores it
WA_ID = "5215512345678"  # as WhatsApp names the same mobile
HOOK = "/webhooks/whatsapp"


async def write_from(client: httpx.AsyncClient, wired: Container, sender: str, wamid: str) -> None:
    """A Cloud API message from `sender` (digits, as WhatsApp names it), stored only."""
    body = payload("whatsapp_cloud_text.json")
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = value["messages"][0]["from"] = sender
    value["messages"][0]["id"] = wamid
    assert (await client.post(HOOK, **meta_post(body))).status_code == 200
    await wired.services["dispatcher"].idle()


def restart_adapter(container: Container) -> None:
    """A new adapter, as another worker or a restarted process has: nothing in memory."""
    adapters = container.services["adapters"]
    old = adapters["whatsapp"]
    adapters["whatsapp"] = build_adapters(container.settings, container.clock)["whatsapp"]
    container.services.setdefault("_replaced", []).append(old)  # closed with the container


async def close_replaced(container: Container) -> None:
    for adapter in container.services.pop("_replaced", []):
        await adapter.close()


async def send_reply(container: Container, account_id: int, text: str) -> None:
    outbound = OutboundMessage(
        key=ConversationKey("whatsapp", STORED),
        text=text,
        purpose=Purpose.REPLY,
        account_id=account_id,
    )
    async with container.sessions.begin() as session:
        decision = await container.services["outbox"].submit(session, outbound)
    assert decision.allowed, decision
    await container.services["outbox"].send([decision.message_id])


async def test_a_fresh_cloud_adapter_still_replies_to_the_521_form(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer
) -> None:
    _, account_id = await seed_debtor(
        wired, now=wired.clock.now(), phone=STORED, channels=("whatsapp",)
    )
    await write_from(channel_client, wired, WA_ID, "wamid.MX1")
    restart_adapter(wired)
    await send_reply(wired, account_id, "Hola")
    [sent] = graph_api.calls("/messages")
    assert sent.json["to"] == WA_ID
    async with wired.sessions() as session:
        [event] = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "channel.address_form")
            )
        ).all()
    assert STORED not in str(event.data) and WA_ID not in str(event.data)  # no number kept

    await write_from(channel_client, wired, WA_ID, "wamid.MX2")  # unchanged: no new record
    await write_from(channel_client, wired, STORED.lstrip("+"), "wamid.MX3")  # named as stored
    restart_adapter(wired)
    await send_reply(wired, account_id, "Hola otra vez")
    assert graph_api.calls("/messages")[-1].json["to"] == STORED.lstrip("+")
    async with wired.sessions() as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "channel.address_form")
            )
        ).all()
    assert len(events) == 2
    await close_replaced(wired)


async def test_a_number_never_named_otherwise_keeps_nothing(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer
) -> None:
    await write_from(channel_client, wired, "12125551234", "wamid.US1")
    await write_from(channel_client, wired, STORED.lstrip("+"), "wamid.MX4")
    async with wired.sessions() as session:
        found = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "channel.address_form")
            )
        ).all()
    assert found == []


async def test_a_fresh_twilio_whatsapp_adapter_still_replies_to_the_521_form(
    twilio_whatsapp: tuple[httpx.AsyncClient, Container], twilio_api: FakeServer
) -> None:
    client, container = twilio_whatsapp
    _, account_id = await seed_debtor(
        container, now=container.clock.now(), phone=STORED, channels=("whatsapp",)
    )
    form = payload("twilio_whatsapp_inbound.json")
    form.update({"From": f"whatsapp:+{WA_ID}", "WaId": WA_ID})
    response = await client.post(**twilio_post("/webhooks/twilio/whatsapp", form))
    assert response.status_code == 200
    await container.services["dispatcher"].idle()
    restart_adapter(container)
    await send_reply(container, account_id, "Hola")
    [sent] = twilio_api.calls("/Messages.json")
    assert sent.form["To"] == f"whatsapp:+{WA_ID}"
    await close_replaced(container)
