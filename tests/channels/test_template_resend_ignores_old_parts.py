"""Once a text is re-sent as its template (WhatsApp's window closed), the statuses of the text's
own parts no longer speak for the message: the template's do."""

from __future__ import annotations

import httpx

from backend.container import Container
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.channels.helpers import PHONE, messages, meta_post, payload, seed_debtor
from tests.channels.test_gaps_channel_split_parts import name_posts, status
from tests.channels.test_review_fixes_parts_and_record import submit_and_send
from tests.channels.test_split_message_retries import LONG
from tests.fakes.server import FakeServer

FAILED = "whatsapp_cloud_status_failed_131047.json"


async def _long_reminder(client: httpx.AsyncClient, wired: Container,
                         graph_api: FakeServer) -> int:
    """The debtor wrote (the window is open), then a reminder too long for one message."""
    _, account_id = await seed_debtor(wired, now=wired.clock.now(), channels=("whatsapp",))
    hook = meta_post(payload("whatsapp_cloud_text.json"))
    assert (await client.post("/webhooks/whatsapp", **hook)).status_code == 200
    await wired.services["dispatcher"].idle()
    graph_api.requests.clear()
    name_posts(graph_api)
    return await submit_and_send(wired, OutboundMessage(
        ConversationKey("whatsapp", PHONE), LONG, purpose=Purpose.REMINDER,
        account_id=account_id, template="parley_reminder", sender="workflow",
        idempotency_key=f"a{account_id}:d+1"))


async def test_a_late_failure_of_an_old_text_part_leaves_the_template_resend_standing(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
) -> None:
    await _long_reminder(channel_client, wired, graph_api)
    await status(channel_client, FAILED, "wamid.PART2")  # the window had closed: re-sent
    assert [c.json["type"] for c in graph_api.calls("/messages")] == ["text", "text", "template"]
    await status(channel_client, "whatsapp_cloud_status_read.json", "wamid.PART3")
    [stored] = await messages(wired, "outbound")
    assert stored.delivery_status == "read"

    await status(channel_client, FAILED, "wamid.PART1")  # the text's first part, reported late
    [stored] = await messages(wired, "outbound")
    assert (stored.delivery_status, stored.provider_message_id) == ("read", "wamid.PART3")
    assert len(graph_api.calls("/messages")) == 3  # and nothing is sent again


async def test_a_failure_of_the_template_itself_still_fails_the_message(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
) -> None:
    await _long_reminder(channel_client, wired, graph_api)
    await status(channel_client, FAILED, "wamid.PART2")
    await status(channel_client, FAILED, "wamid.PART3")
    [stored] = await messages(wired, "outbound")
    assert (stored.delivery_status, stored.error_code) == ("failed", "131047")
