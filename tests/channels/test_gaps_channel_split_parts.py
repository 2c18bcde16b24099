"""Split and numbered replies: every part's id is kept (earlier rounds' too), each part's status
reaches the message, and the stored text is what the debtor got."""

from __future__ import annotations

from datetime import timedelta

import httpx

from backend.container import Container
from backend.services.delivery import envelope
from bot.clock import SettableClock
from bot.messages import Choice, ConversationKey, OutboundMessage
from tests.channels.helpers import PHONE, messages, meta_post, payload, seed_debtor, twilio_post
from tests.channels.test_review_fixes_parts_and_record import (
    LONG as TWILIO_LONG,
)
from tests.channels.test_review_fixes_parts_and_record import (
    STATUS,
    debtor_wrote_by_twilio_whatsapp,
    posted_bodies,
    refuse_posts,
    submit_and_send,
)
from tests.channels.test_split_message_retries import LONG, debtor_wrote_on_whatsapp
from tests.channels.test_telegram import CHAT, linked_account
from tests.fakes.graph import graph_error
from tests.fakes.server import FakeServer, Recorded, Reply
from tests.fakes.twilio import FakeTwilio

HOOK = "/webhooks/whatsapp"
FOUR = (Choice("Pay now", "pay_now"), Choice("Payment plan", "plan"),
        Choice("Pay later", "later"), Choice("Talk to a person", "agent"))


def name_posts(graph_api: FakeServer) -> None:
    """Meta answers the n-th POST from now with wamid.PARTn."""
    posts = iter(range(1, 100))

    def router(rec: Recorded) -> Reply:
        if rec.method != "POST":
            return 404, {}
        return 200, {"messaging_product": "whatsapp",
                     "messages": [{"id": f"wamid.PART{next(posts)}"}]}

    graph_api.router = router


async def status(client: httpx.AsyncClient, name: str, wamid: str) -> None:
    body = meta_post(payload(name, wamid=wamid))
    assert (await client.post(HOOK, **body)).status_code == 200


# Gap 1: a WhatsApp Cloud split reply keeps every part's wamid.

async def test_every_cloud_parts_status_reaches_the_split_reply(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
) -> None:
    await debtor_wrote_on_whatsapp(channel_client, wired, graph_api)
    name_posts(graph_api)
    await submit_and_send(wired, OutboundMessage(ConversationKey("whatsapp", PHONE), LONG))
    assert len(graph_api.calls("/messages")) == 2
    *_, stored = await messages(wired, "outbound")
    first, last = "wamid.PART1", "wamid.PART2"
    assert stored.provider_message_id == last
    assert envelope(stored)["part_ids"] == [first]
    await status(channel_client, "whatsapp_cloud_status_read.json", first)
    *_, stored = await messages(wired, "outbound")
    assert stored.delivery_status == "read"  # part 1's status found the message
    await status(channel_client, "whatsapp_cloud_status_failed_131047.json", last)
    *_, stored = await messages(wired, "outbound")
    assert (stored.delivery_status, stored.error_code) == ("failed", "131047")
    await status(channel_client, "whatsapp_cloud_status_read.json", first)
    *_, stored = await messages(wired, "outbound")
    assert stored.delivery_status == "failed"  # a failed part is never hidden by another


async def test_a_cloud_part_taken_in_an_earlier_round_keeps_its_id(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
    clock: SettableClock,
) -> None:
    await debtor_wrote_on_whatsapp(channel_client, wired, graph_api)
    name_posts(graph_api)
    answer, posts = graph_api.router, iter(range(1, 100))

    def refuse_second_to_fourth(rec: Recorded) -> Reply:
        if rec.method == "POST" and next(posts) in (2, 3, 4):
            return graph_error(131000, status=500)
        return answer(rec)

    graph_api.router = refuse_second_to_fourth
    message_id = await submit_and_send(
        wired, OutboundMessage(ConversationKey("whatsapp", PHONE), LONG))
    *_, stored = await messages(wired, "outbound")
    assert stored.delivery_status == "deferred"
    assert envelope(stored)["part_ids"] == ["wamid.PART1"]
    clock.advance(timedelta(minutes=1))
    assert await wired.services["outbox"].release_due(clock.now()) == [message_id]
    first, *refused, again = graph_api.calls("/messages")
    assert len(refused) == 3 and again.json == refused[0].json != first.json
    *_, stored = await messages(wired, "outbound")
    assert stored.provider_message_id == "wamid.PART2"
    assert envelope(stored)["part_ids"] == ["wamid.PART1"]
    await status(channel_client, "whatsapp_cloud_status_failed_131047.json", "wamid.PART1")
    *_, stored = await messages(wired, "outbound")
    assert (stored.delivery_status, stored.error_code) == ("failed", "131047")


# Gap 2: numbered choices are stored as sent (WhatsApp Cloud and Telegram).

async def test_a_cloud_reply_with_more_choices_than_buttons_is_stored_as_sent(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
) -> None:
    await debtor_wrote_on_whatsapp(channel_client, wired, graph_api)
    await submit_and_send(wired, OutboundMessage(
        ConversationKey("whatsapp", PHONE), "How would you like to go on?", choices=FOUR))
    [call] = graph_api.calls("/messages")
    assert call.json["type"] == "text"
    *_, stored = await messages(wired, "outbound")
    assert stored.text == call.json["text"]["body"]
    assert stored.text.endswith("\n3. Pay later\n4. Talk to a person")


async def test_a_telegram_reply_with_numbered_choices_is_stored_as_sent(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer,
) -> None:
    account_id = await linked_account(channel_client, wired)
    telegram_api.requests.clear()
    long_labels = tuple(Choice(f"{label} - " + "x" * 60, value) for label, value in
                        (("Pay now", "pay_now"), ("Payment plan", "plan")))
    await submit_and_send(wired, OutboundMessage(
        ConversationKey("telegram", CHAT), "How would you like to go on?",
        choices=long_labels, account_id=account_id))
    [call] = telegram_api.calls("/sendMessage")
    assert "reply_markup" not in call.form
    *_, stored = await messages(wired, "outbound")
    assert stored.text == call.form["text"]
    assert "\n2. Payment plan - " in stored.text


# Gap 3: Twilio part SIDs taken in an earlier round are kept after the retry.

async def test_a_twilio_whatsapp_part_taken_in_an_earlier_round_keeps_its_sid(
    twilio_whatsapp: tuple[httpx.AsyncClient, Container], twilio_api: FakeTwilio,
    clock: SettableClock,
) -> None:
    client, container = twilio_whatsapp
    await debtor_wrote_by_twilio_whatsapp(client, container, twilio_api)
    refuse_posts(twilio_api, 2, 3, 4)  # every in-request try of part 2 (FAST_RETRY)
    message_id = await submit_and_send(
        container, OutboundMessage(ConversationKey("whatsapp", PHONE), TWILIO_LONG))
    clock.advance(timedelta(minutes=1))
    assert await container.services["outbox"].release_due(clock.now()) == [message_id]
    part1, part2 = twilio_api.created
    [stored] = await messages(container, "outbound")
    assert stored.provider_message_id == part2["sid"]
    assert envelope(stored)["part_ids"] == [part1["sid"]]
    form = payload("twilio_status_failed_21610.json", sid=part1["sid"])
    form.update({"ErrorCode": "63016", "From": "whatsapp:+14155238886",
                 "To": f"whatsapp:{PHONE}"})
    assert (await client.post(**twilio_post(STATUS, form))).status_code == 204
    [stored] = await messages(container, "outbound")
    assert (stored.delivery_status, stored.error_code) == ("failed", "63016")


async def test_a_long_sms_goes_as_one_body_and_a_retry_sends_it_once_more(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeTwilio,
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    refuse_posts(twilio_api, 1)
    await submit_and_send(wired, OutboundMessage(
        ConversationKey("sms", PHONE), TWILIO_LONG, account_id=account_id))
    refused, sent = posted_bodies(twilio_api)
    assert refused == sent and len(sent) <= 1600  # one body: Twilio segments it, no parts
    [stored] = await messages(wired, "outbound")
    assert stored.provider_message_id == twilio_api.created[-1]["sid"]
    assert stored.text == sent and "part_ids" not in envelope(stored)
