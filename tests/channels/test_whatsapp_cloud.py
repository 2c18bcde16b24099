"""WhatsApp Cloud API: handshake, raw-body signatures, statuses, the 24-hour window and 131047."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx

from backend.container import Container
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage
from tests.channels.helpers import PHONE, messages, meta_post, payload, seed_debtor
from tests.fakes.graph import VERIFY_TOKEN, graph_error
from tests.fakes.server import FakeServer

HOOK = "/webhooks/whatsapp"
WA = ConversationKey("whatsapp", PHONE)


async def test_the_subscription_handshake_echoes_only_for_our_token(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    ok = await channel_client.get(HOOK, params={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    bad = await channel_client.get(HOOK, params={
        "hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    assert bad.status_code == 403


async def test_a_signed_message_is_stored_once_and_a_reserialised_body_is_refused(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    body = payload("whatsapp_cloud_text.json")
    request = meta_post(body)
    assert (await channel_client.post(HOOK, **request)).status_code == 200
    assert (await channel_client.post(HOOK, **request)).status_code == 200
    [stored] = await messages(wired)
    assert (stored.channel, stored.text) == ("whatsapp", "¿Cuánto debo?")
    pretty = json.dumps(body, indent=2).encode()
    forged = {"content": pretty, "headers": request["headers"]}
    assert (await channel_client.post(HOOK, **forged)).status_code == 403


async def reminder_outside_window(wired: Container) -> int:
    _, account_id = await seed_debtor(wired, now=wired.clock.now(), channels=("whatsapp",))
    outbound = OutboundMessage(WA, "Hello", account_id=account_id, template="parley_reminder",
                               template_vars={"1": "https://pay.example.com/x"})
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, outbound)
    assert decision.allowed and decision.message_id is not None
    await wired.services["outbox"].send([decision.message_id])
    return decision.message_id


async def test_outside_the_window_the_template_is_sent(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer
) -> None:
    await reminder_outside_window(wired)
    [call] = graph_api.calls("/messages")
    assert call.json["type"] == "template"
    assert call.json["template"]["name"] == "parley_reminder" and call.json["to"] == PHONE[1:]
    assert call.headers["authorization"] == "Bearer test-access-token"


async def test_inside_the_window_text_goes_and_131047_falls_back_to_the_template(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
    clock: SettableClock,
) -> None:
    await seed_debtor(wired, now=clock.now(), channels=("whatsapp",))
    assert (await channel_client.post(HOOK, **meta_post(payload("whatsapp_cloud_text.json")))
            ).status_code == 200
    graph_api.fail_next(graph_error(131047, 400, "Re-engagement message"))
    outbound = OutboundMessage(WA, "Your answer", template="parley_reminder")
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, outbound)
    await wired.services["outbox"].send([decision.message_id])
    kinds = [c.json["type"] for c in graph_api.calls("/messages")]
    assert kinds == ["text", "template"]


async def test_a_failed_131047_status_resends_as_template_and_read_skips_delivered(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
    clock: SettableClock,
) -> None:
    await seed_debtor(wired, now=clock.now(), channels=("whatsapp",))
    await channel_client.post(HOOK, **meta_post(payload("whatsapp_cloud_text.json")))
    outbound = OutboundMessage(WA, "Your answer", template="parley_reminder")
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, outbound)
    await wired.services["outbox"].send([decision.message_id])
    [row] = await messages(wired, "outbound")
    wamid = row.provider_message_id or ""
    failed = payload("whatsapp_cloud_status_failed_131047.json", wamid=wamid)
    assert (await channel_client.post(HOOK, **meta_post(failed))).status_code == 200
    assert [c.json["type"] for c in graph_api.calls("/messages")] == ["text", "template"]
    [row] = await messages(wired, "outbound")
    read = payload("whatsapp_cloud_status_read.json", wamid=row.provider_message_id or "")
    await channel_client.post(HOOK, **meta_post(read))
    [row] = await messages(wired, "outbound")
    assert row.delivery_status == "read"


async def test_free_text_after_the_window_is_blocked_without_a_template(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
    clock: SettableClock,
) -> None:
    await seed_debtor(wired, now=clock.now(), channels=("whatsapp",))
    await channel_client.post(HOOK, **meta_post(payload("whatsapp_cloud_text.json")))
    clock.advance(timedelta(hours=25))
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, OutboundMessage(WA, "Hi"))
    assert decision.reason == "whatsapp_window_closed"
    assert graph_api.calls("/messages") == []
