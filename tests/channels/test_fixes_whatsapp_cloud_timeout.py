"""A WhatsApp Cloud send that times out is an unknown outcome: deferred, adopted or sent again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Handoff
from bot.channels.base import Delivery
from bot.channels.errors import OutcomeUnknown, TransientChannelError
from bot.channels.whatsapp_cloud import WhatsAppCloudAdapter
from bot.clock import SettableClock
from bot.messages import ConversationKey
from tests.channels.helpers import StubTurnHandler, messages, meta_post, payload, seed_debtor
from tests.fakes.graph import PHONE_NUMBER_ID
from tests.fakes.server import FakeServer

HOOK = "/webhooks/whatsapp"


async def stalled_reply(client: httpx.AsyncClient, wired: Container, graph_api: FakeServer) -> None:
    """The debtor writes; the bot's reply reaches Meta, whose answer never comes back."""
    await seed_debtor(wired, now=wired.clock.now(), channels=("whatsapp",))
    wired.services["turn_handler"] = StubTurnHandler(wired)
    wired.services["adapters"]["whatsapp"].http.timeout = httpx.Timeout(0.2)
    graph_api.drop_next(delay=0.6)  # Meta takes the message, then stalls past the timeout
    response = await client.post(HOOK, **meta_post(payload("whatsapp_cloud_text.json")))
    assert response.status_code == 200
    await wired.services["dispatcher"].idle()


def status_of(wamid: str, status: str, echoed: str) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": [
            {
                "id": wamid,
                "status": status,
                "timestamp": "1795532600",
                "recipient_id": "12125551234",
                "biz_opaque_callback_data": echoed,
            }
        ],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }


async def handoffs(wired: Container) -> list[Handoff]:
    async with wired.sessions() as session:
        return list((await session.scalars(select(Handoff))).all())


async def test_a_timed_out_reply_waits_and_metas_status_adopts_it_without_a_resend(
    channel_client: httpx.AsyncClient,
    wired: Container,
    graph_api: FakeServer,
    clock: SettableClock,
) -> None:
    await stalled_reply(channel_client, wired, graph_api)
    [reply] = await messages(wired, "outbound")
    assert (reply.delivery_status, reply.error_code) == ("deferred", "timeout")  # not given up
    assert reply.provider_message_id is None and await handoffs(wired) == []
    [sent] = graph_api.calls("/messages")  # not sent again at once
    echoed = sent.json["biz_opaque_callback_data"]

    update = status_of("wamid.LATE0001", "delivered", echoed)
    assert (await channel_client.post(HOOK, **meta_post(update))).status_code == 200
    [reply] = await messages(wired, "outbound")
    assert (reply.delivery_status, reply.provider_message_id) == ("delivered", "wamid.LATE0001")

    clock.advance(timedelta(minutes=2))
    assert await wired.services["outbox"].release_due(clock.now()) == []
    assert len(graph_api.calls("/messages")) == 1  # delivered once, never doubled


async def test_a_status_for_another_key_adopts_nothing(
    channel_client: httpx.AsyncClient,
    wired: Container,
    graph_api: FakeServer,
) -> None:
    await stalled_reply(channel_client, wired, graph_api)
    update = status_of("wamid.OTHER0001", "sent", "someone-elses-key")
    assert (await channel_client.post(HOOK, **meta_post(update))).status_code == 200
    [reply] = await messages(wired, "outbound")
    assert (reply.delivery_status, reply.provider_message_id) == ("deferred", None)


async def test_a_timed_out_reply_with_no_news_is_sent_again_on_the_next_round(
    channel_client: httpx.AsyncClient,
    wired: Container,
    graph_api: FakeServer,
    clock: SettableClock,
) -> None:
    await stalled_reply(channel_client, wired, graph_api)
    [reply] = await messages(wired, "outbound")
    clock.advance(timedelta(minutes=1))
    assert await wired.services["outbox"].release_due(clock.now()) == [reply.id]
    first, again = graph_api.calls("/messages")
    assert again.json == first.json  # the same message, with the same key for a late status
    [reply] = await messages(wired, "outbound")
    assert reply.delivery_status == "sent" and reply.provider_message_id is not None
    assert await handoffs(wired) == []


@pytest.mark.parametrize(
    ("error", "expected", "code"),
    [
        (httpx.ConnectError("refused"), TransientChannelError, "connect"),
        (httpx.ConnectTimeout("slow connect"), TransientChannelError, "connect"),
        (httpx.PoolTimeout("no connection free"), TransientChannelError, "connect"),
        (httpx.ReadTimeout("no answer"), OutcomeUnknown, "timeout"),
        (httpx.WriteTimeout("half sent"), OutcomeUnknown, "timeout"),
        (httpx.RemoteProtocolError("disconnected"), OutcomeUnknown, "transport"),
    ],
)
def test_a_send_that_may_have_reached_meta_is_an_unknown_outcome(
    error: httpx.TransportError, expected: type[Exception], code: str
) -> None:
    from bot.channels.whatsapp_cloud import map_transport_error  # here: the others run alone

    mapped = map_transport_error(error)
    assert type(mapped) is expected and mapped.code == code


async def test_only_a_long_messages_last_part_echoes_its_key(graph_api: FakeServer) -> None:
    adapter = WhatsAppCloudAdapter(
        httpx.AsyncClient(),
        api_url=graph_api.base + "/v21.0",
        phone_number_id=PHONE_NUMBER_ID,
        access_token="t",
        app_secret="s",
        verify_token="v",
    )
    text = ("Your plan, in detail. " * 400).strip()  # two parts of at most 4096 characters
    await adapter.send(Delivery(ConversationKey("whatsapp", "+12125551234"), text, "k1"))
    await adapter.close()
    # Parts go in order: a status for the last says all went; an earlier one's says nothing.
    assert [c.json["biz_opaque_callback_data"] for c in graph_api.calls("/messages")] == [
        "k1#part1",
        "k1",
    ]
