"""A long message split in parts: a retry after a failed later part never re-sends the earlier."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx

from backend.container import Container
from bot.channels.base import Delivery
from bot.channels.errors import TransientChannelError
from bot.channels.whatsapp_cloud import WhatsAppCloudAdapter
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage
from tests.channels.helpers import messages, meta_post, payload, seed_debtor
from tests.channels.test_telegram import CHAT, linked_account
from tests.fakes.graph import PHONE_NUMBER_ID, graph_error
from tests.fakes.server import FakeServer, Recorded, Reply
from tests.fakes.telegram import telegram_error

LONG = ("Your plan, in detail. " * 280).strip()  # two parts on WhatsApp and on Telegram
META_OK: Reply = (200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.PART1"}]})


def texts(calls: list[Recorded]) -> list[str]:
    return [c.json["text"]["body"] for c in calls]


async def test_the_adapter_resumes_after_the_parts_meta_took(graph_api: FakeServer) -> None:
    adapter = WhatsAppCloudAdapter(httpx.AsyncClient(), api_url=graph_api.base + "/v21.0",
                                   phone_number_id=PHONE_NUMBER_ID, access_token="t",
                                   app_secret="s", verify_token="v")
    delivery = Delivery(ConversationKey("whatsapp", "+12125551234"), LONG, "k1")
    graph_api.fail_next(META_OK, graph_error(131000, status=500))
    try:
        await adapter.send(delivery)
        raise AssertionError("the second part failed")
    except TransientChannelError as exc:
        assert exc.parts_sent == 1
    await adapter.send(Delivery(delivery.key, LONG, "k1", parts_sent=1))
    await adapter.close()
    first, failed, again = graph_api.calls("/messages")
    assert failed.json == again.json != first.json
    assert again.json["biz_opaque_callback_data"] == "k1"


async def test_a_failed_second_part_is_retried_alone_on_whatsapp(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer
) -> None:
    await debtor_wrote_on_whatsapp(channel_client, wired, graph_api)
    graph_api.fail_next(META_OK, graph_error(131000, status=500))
    await send(wired, OutboundMessage(ConversationKey("whatsapp", "+12125551234"), LONG))
    first, failed, again = graph_api.calls("/messages")
    assert texts([first, failed, again]) == [texts([first])[0], *texts([failed]) * 2]
    assert "".join(texts([first, again])).replace(" ", "") == LONG.replace(" ", "")
    [*_, reply] = await messages(wired, "outbound")
    assert reply.delivery_status == "sent"


async def test_a_second_part_that_timed_out_goes_alone_in_the_next_round(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
    clock: SettableClock,
) -> None:
    await debtor_wrote_on_whatsapp(channel_client, wired, graph_api)
    wired.services["adapters"]["whatsapp"].http.timeout = httpx.Timeout(0.2)
    answer = graph_api.router
    posts = iter(range(1, 100))

    def stall_the_second(rec: Recorded) -> Reply:
        if rec.method == "POST" and next(posts) == 2:
            time.sleep(0.6)  # Meta's answer to the second part never comes in time
        return answer(rec)

    graph_api.router = stall_the_second
    message_id = await send(wired, OutboundMessage(ConversationKey("whatsapp", "+12125551234"),
                                                   LONG))
    [*_, reply] = await messages(wired, "outbound")
    assert (reply.delivery_status, reply.error_code) == ("deferred", "timeout")
    clock.advance(timedelta(minutes=1))
    assert await wired.services["outbox"].release_due(clock.now()) == [message_id]
    first, stalled, again = graph_api.calls("/messages")
    assert stalled.json == again.json != first.json  # the first part went once
    [*_, reply] = await messages(wired, "outbound")
    assert reply.delivery_status == "sent"


async def test_a_failed_second_part_is_retried_alone_on_telegram(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer
) -> None:
    account_id = await linked_account(channel_client, wired)
    telegram_api.requests.clear()
    ok: dict[str, Any] = {"ok": True, "result": {
        "message_id": 41, "date": 1700000000, "chat": {"id": int(CHAT), "type": "private"}}}
    telegram_api.fail_next((200, ok), telegram_error(502, "Bad Gateway"))
    await send(wired, OutboundMessage(ConversationKey("telegram", CHAT), LONG,
                                      account_id=account_id))
    first, failed, again = [c.form["text"] for c in telegram_api.calls("/sendMessage")]
    assert failed == again != first
    [*_, reply] = await messages(wired, "outbound")
    assert reply.delivery_status == "sent"


async def debtor_wrote_on_whatsapp(client: httpx.AsyncClient, wired: Container,
                                   graph_api: FakeServer) -> None:
    """A debtor on WhatsApp wrote (so replies may go); the Graph calls so far are forgotten."""
    await seed_debtor(wired, now=wired.clock.now(), channels=("whatsapp",))
    hook = meta_post(payload("whatsapp_cloud_text.json"))
    assert (await client.post("/webhooks/whatsapp", **hook)).status_code == 200
    await wired.services["dispatcher"].idle()
    graph_api.requests.clear()


async def send(wired: Container, outbound: OutboundMessage) -> int:
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, outbound)
    assert decision.allowed and decision.message_id is not None
    await wired.services["outbox"].send([decision.message_id])
    return decision.message_id
