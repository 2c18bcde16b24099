"""WhatsApp Cloud messages of one delivery are stored in the order the debtor sent them."""

from __future__ import annotations

from typing import Any

import httpx

from backend.container import Container
from bot.channels.base import RawRequest
from bot.channels.whatsapp_cloud import WhatsAppCloudAdapter
from tests.channels.helpers import messages, meta_post, payload
from tests.fakes.graph import PHONE_NUMBER_ID

HOOK = "/webhooks/whatsapp"
T = 1795532400


def _delivery(*items: tuple[str, int, str]) -> dict[str, Any]:
    """One POST listing text messages (id, timestamp, body) in the order given."""
    body = payload("whatsapp_cloud_text.json")
    value = body["entry"][0]["changes"][0]["value"]
    [template] = value["messages"]
    value["messages"] = [{**template, "id": wamid, "timestamp": str(at), "text": {"body": text}}
                         for wamid, at, text in items]
    return dict(body)


async def test_a_delivery_listed_out_of_order_is_stored_in_the_debtors_order(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    body = _delivery(("wamid.K2", T - 5, "03/16/1971"), ("wamid.K1", T - 10, "hi i got a message"))
    assert (await channel_client.post(HOOK, **meta_post(body))).status_code == 200
    stored = await messages(wired, "inbound")
    assert [m.provider_message_id for m in stored] == ["wamid.K1", "wamid.K2"]
    assert [m.text for m in stored] == ["hi i got a message", "03/16/1971"]


async def test_messages_sent_in_the_same_second_keep_the_order_meta_listed() -> None:
    adapter = WhatsAppCloudAdapter(httpx.AsyncClient(), api_url="http://127.0.0.1:9",
                                   phone_number_id=PHONE_NUMBER_ID, access_token="t",
                                   app_secret="s", verify_token="v")
    body = _delivery(("wamid.A", T, "one"), ("wamid.B", T, "two"), ("wamid.C", T - 1, "zero"),
                     ("wamid.D", T, "three"))
    request = RawRequest("POST", HOOK, "", {}, meta_post(body)["content"])
    batch = await adapter.parse(request)
    assert [m.text for m in batch.messages] == ["zero", "one", "two", "three"]
    await adapter.close()
