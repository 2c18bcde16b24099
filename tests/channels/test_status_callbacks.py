"""Twilio status callbacks: signed, applied monotonically, failures recorded."""

from __future__ import annotations

import httpx

from backend.container import Container
from bot.messages import ConversationKey, OutboundMessage
from tests.channels.helpers import PHONE, contact, messages, payload, seed_debtor, twilio_post

STATUS = "/webhooks/twilio/status"


async def sent_sid(container: Container) -> str:
    _, account_id = await seed_debtor(container, now=container.clock.now())
    async with container.sessions.begin() as session:
        decision = await container.services["outbox"].submit(
            session, OutboundMessage(ConversationKey("sms", PHONE), "Hi", account_id=account_id))
    await container.services["outbox"].send([decision.message_id])
    [row] = await messages(container, "outbound")
    return row.provider_message_id or ""


async def post_status(client: httpx.AsyncClient, sid: str, status: str) -> int:
    form = payload("twilio_status_delivered.json", sid=sid)
    form.update({"MessageStatus": status, "SmsStatus": status})
    return (await client.post(**twilio_post(STATUS, form))).status_code


async def test_a_late_sent_never_overwrites_delivered(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    sid = await sent_sid(wired)
    assert await post_status(channel_client, sid, "delivered") == 204
    assert await post_status(channel_client, sid, "sent") == 204
    assert await post_status(channel_client, sid, "delivered") == 204  # duplicate
    [row] = await messages(wired, "outbound")
    assert row.delivery_status == "delivered"
    assert await post_status(channel_client, sid, "read") == 204
    [row] = await messages(wired, "outbound")
    assert row.delivery_status == "read"


async def test_a_forged_status_callback_changes_nothing(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    sid = await sent_sid(wired)
    request = twilio_post(STATUS, payload("twilio_status_delivered.json", sid=sid))
    request["headers"]["X-Twilio-Signature"] = "Zm9yZ2Vk"
    assert (await channel_client.post(**request)).status_code == 403
    [row] = await messages(wired, "outbound")
    assert row.delivery_status == "queued"


async def test_a_failed_21610_status_records_the_opt_out(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    sid = await sent_sid(wired)
    form = payload("twilio_status_failed_21610.json", sid=sid)
    assert (await channel_client.post(**twilio_post(STATUS, form))).status_code == 204
    [row] = await messages(wired, "outbound")
    assert (row.delivery_status, row.error_code) == ("failed", "21610")
    point = await contact(wired, "sms", PHONE)
    assert point is not None and point.opted_out_at is not None
