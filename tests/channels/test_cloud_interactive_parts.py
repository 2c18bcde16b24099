"""WhatsApp Cloud replies with buttons: every part of a long text goes, in order, and the buttons
ride on the last, whose interactive body keeps within Meta's 1024 characters."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from backend.container import Container
from backend.services.delivery import envelope
from bot.channels.base import Delivery
from bot.channels.errors import TransientChannelError
from bot.channels.rendering import render
from bot.channels.telegram import TELEGRAM_LIMITS
from bot.channels.whatsapp_cloud import CLOUD_LIMITS, WhatsAppCloudAdapter
from bot.messages import Choice, ConversationKey, OutboundMessage
from tests.channels.helpers import PHONE, messages
from tests.channels.test_gaps_part_lookup_index import parts
from tests.channels.test_review_fixes_parts_and_record import submit_and_send
from tests.channels.test_split_message_retries import debtor_wrote_on_whatsapp
from tests.fakes.graph import (
    INTERACTIVE_BODY_CHARS,
    PHONE_NUMBER_ID,
    TEXT_BODY_CHARS,
    graph_error,
    within_meta_limits,
)
from tests.fakes.server import FakeServer, Recorded, Reply

KEY = ConversationKey("whatsapp", PHONE)
CHOICES = (Choice("Pay now", "pay_now"), Choice("Payment plan", "plan"),
           Choice("Talk to a person", "agent"))
FAILED = graph_error(131000, status=500)


def words(chars: int) -> str:
    """About `chars` characters of numbered sentences: their order shows in what was sent."""
    text = " ".join(f"Line {i:04d} of your plan." for i in range(chars // 23 + 1))
    return text[:chars].rstrip()


def ok(wamid: str) -> Reply:
    return 200, {"messaging_product": "whatsapp", "messages": [{"id": wamid}]}


def body(call: Recorded) -> str:
    message = call.json
    if message["type"] == "interactive":
        return str(message["interactive"]["body"]["text"])
    return str(message["text"]["body"])


def assert_sent_whole_with_buttons_last(calls: list[Recorded], text: str) -> None:
    *earlier, last = calls
    assert " ".join(body(c) for c in calls).split() == text.split()  # all of it, in order
    assert all(c.json["type"] == "text" and len(body(c)) <= TEXT_BODY_CHARS for c in earlier)
    assert last.json["type"] == "interactive" and len(body(last)) <= INTERACTIVE_BODY_CHARS
    buttons = last.json["interactive"]["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == [c.value for c in CHOICES]


@pytest.fixture
def meta(graph_api: FakeServer) -> FakeServer:
    """The fake Graph API, refusing what Meta refuses (131009) and forgetting earlier calls."""
    graph_api.router = within_meta_limits(graph_api.router)
    graph_api.requests.clear()
    return graph_api


@pytest.fixture
async def adapter(meta: FakeServer) -> AsyncIterator[WhatsAppCloudAdapter]:
    cloud = WhatsAppCloudAdapter(httpx.AsyncClient(), api_url=meta.base + "/v21.0",
                                 phone_number_id=PHONE_NUMBER_ID, access_token="t",
                                 app_secret="s", verify_token="v")
    yield cloud
    await cloud.close()


async def test_a_5000_character_text_with_buttons_goes_whole(
    adapter: WhatsAppCloudAdapter, meta: FakeServer,
) -> None:
    text = words(5000)
    result = await adapter.send(Delivery(KEY, text, "k1", choices=CHOICES))
    calls = meta.calls("/messages")
    earlier = calls[:-1]
    assert earlier  # 5,000 characters never fit one interactive body
    assert_sent_whole_with_buttons_last(calls, text)
    assert [c.json["biz_opaque_callback_data"] for c in calls] == [
        *(f"k1#part{i}" for i in range(1, len(calls))), "k1"]
    assert len(result.part_ids) == len(earlier)
    assert result.provider_message_id not in result.part_ids


async def test_a_1500_character_text_with_buttons_goes_as_text_then_buttons(
    adapter: WhatsAppCloudAdapter, meta: FakeServer,
) -> None:
    text = words(1500)
    await adapter.send(Delivery(KEY, text, "k1", choices=CHOICES))
    calls = meta.calls("/messages")
    assert [c.json["type"] for c in calls] == ["text", "interactive"]
    assert_sent_whole_with_buttons_last(calls, text)


async def test_a_short_text_with_buttons_is_one_interactive_message(
    adapter: WhatsAppCloudAdapter, meta: FakeServer,
) -> None:
    text = words(INTERACTIVE_BODY_CHARS)
    await adapter.send(Delivery(KEY, text, "k1", choices=CHOICES))
    [call] = meta.calls("/messages")
    assert body(call) == text and call.json["type"] == "interactive"


async def test_a_failed_second_part_keeps_the_first_and_the_retry_sends_only_the_rest(
    adapter: WhatsAppCloudAdapter, meta: FakeServer,
) -> None:
    text = words(7000)  # three parts: 4096, the rest as text, then the buttons on its tail
    meta.fail_next(ok("wamid.PART1"), FAILED)
    with pytest.raises(TransientChannelError) as failed:
        await adapter.send(Delivery(KEY, text, "k1", choices=CHOICES))
    assert (failed.value.parts_sent, failed.value.part_ids) == (1, ("wamid.PART1",))
    retry = Delivery(KEY, text, "k1", choices=CHOICES,
                     parts_sent=failed.value.parts_sent, part_ids=failed.value.part_ids)
    result = await adapter.send(retry)
    first, refused, *again = meta.calls("/messages")
    assert len(again) == 2 and again[0].json == refused.json  # parts 2 and 3, part 1 not again
    assert_sent_whole_with_buttons_last([first, *again], text)
    assert result.part_ids[0] == "wamid.PART1" and len(result.part_ids) == len(again)


async def test_the_outbox_retries_only_the_buttons_part_and_keeps_the_first_parts_id(
    channel_client: httpx.AsyncClient, wired: Container, meta: FakeServer,
) -> None:
    await debtor_wrote_on_whatsapp(channel_client, wired, meta)
    text = words(1500)
    meta.fail_next(ok("wamid.PART1"), FAILED)
    await submit_and_send(wired, OutboundMessage(KEY, text, choices=CHOICES))
    first, refused, again = meta.calls("/messages")
    assert refused.json == again.json
    assert_sent_whole_with_buttons_last([first, again], text)
    *_, stored = await messages(wired, "outbound")
    assert stored.delivery_status == "sent"
    assert envelope(stored)["part_ids"] == ["wamid.PART1"]
    assert await parts(wired) == [("wamid.PART1", "whatsapp", stored.id)]


def test_the_buttons_part_fits_the_interactive_body_and_telegram_is_unchanged() -> None:
    cloud = render(words(1500), CHOICES, CLOUD_LIMITS)
    assert len(cloud.parts) == 2 and len(cloud.parts[-1]) <= INTERACTIVE_BODY_CHARS
    assert cloud.parts[0].endswith(".") and cloud.parts[1].startswith("Line")  # at a sentence
    telegram = render(words(5000), CHOICES, TELEGRAM_LIMITS)
    assert len(telegram.parts) == 2 and telegram.buttons == CHOICES
