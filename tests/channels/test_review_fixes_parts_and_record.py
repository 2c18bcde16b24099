"""Twilio: a split reply resumes after the parts taken, the stored text is what was sent, and
Twilio WhatsApp configured beside the Cloud API is named at start-up."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest

from backend.channels_wiring import build_adapters
from backend.container import Container
from backend.services.delivery import envelope
from backend.settings import Settings
from bot.clock import SettableClock
from bot.messages import Choice, ConversationKey, OutboundMessage
from tests.channels.helpers import PHONE, messages, payload, seed_debtor, twilio_post
from tests.channels.test_split_message_retries import debtor_wrote_on_whatsapp
from tests.fakes.server import FakeServer, Recorded, Reply
from tests.fakes.twilio import FakeTwilio, twilio_error

WHATSAPP, STATUS = "/webhooks/twilio/whatsapp", "/webhooks/twilio/status"
OUTAGE = twilio_error(20503, 503, "Service unavailable")
# A reply of 2,507 characters: two parts (1,583 + 923) on WhatsApp through Twilio.
LONG = ("We can set up a plan that fits your budget. " * 57).strip()
BALANCE_CHOICES = (Choice("Pay now", "pay_now"), Choice("Payment plan", "plan"),
                   Choice("Pay later", "later"))
PLAN_CHOICES = (*BALANCE_CHOICES, Choice("Talk to a person", "agent"))


def posted_bodies(twilio_api: FakeTwilio) -> list[str]:
    """Every Body POSTed, refused ones included, in order."""
    return [c.form.get("Body", "") for c in twilio_api.calls("/Messages.json")
            if c.method == "POST"]


def refuse_posts(twilio_api: FakeTwilio, *numbers: int) -> None:
    """The fake refuses (503) the POSTs with these 1-based numbers; the others it takes."""
    answer, posts = twilio_api.router, iter(range(1, 1000))

    def router(rec: Recorded) -> Reply:
        if rec.method == "POST" and next(posts) in numbers:
            return OUTAGE
        return answer(rec)

    twilio_api.router = router


async def debtor_wrote_by_twilio_whatsapp(client: httpx.AsyncClient, container: Container,
                                          twilio_api: FakeTwilio) -> None:
    """The debtor wrote to the Twilio WhatsApp sender: the 24-hour window is open."""
    await seed_debtor(container, now=container.clock.now(), channels=("whatsapp",))
    form = payload("twilio_whatsapp_inbound.json")
    assert (await client.post(**twilio_post(WHATSAPP, form))).status_code == 200
    await container.services["dispatcher"].idle()
    twilio_api.requests.clear()


async def submit_and_send(container: Container, outbound: OutboundMessage) -> int:
    async with container.sessions.begin() as session:
        decision = await container.services["outbox"].submit(session, outbound)
    assert decision.allowed and decision.message_id is not None
    await container.services["outbox"].send([decision.message_id])
    return int(decision.message_id)


def long_reply() -> OutboundMessage:
    return OutboundMessage(ConversationKey("whatsapp", PHONE), LONG)


# Defect 1: a failed second part never re-sends the first.

async def test_a_refused_second_whatsapp_part_is_retried_alone_in_the_request(
    twilio_whatsapp: tuple[httpx.AsyncClient, Container], twilio_api: FakeTwilio,
) -> None:
    client, container = twilio_whatsapp
    await debtor_wrote_by_twilio_whatsapp(client, container, twilio_api)
    refuse_posts(twilio_api, 2)
    await submit_and_send(container, long_reply())
    first, refused, again = posted_bodies(twilio_api)
    assert refused == again != first
    assert [m["body"] for m in twilio_api.created] == [first, again]  # part 1 once
    [stored] = await messages(container, "outbound")
    assert stored.delivery_status == "queued" and stored.error_code is None
    assert stored.provider_message_id == twilio_api.created[-1]["sid"]
    assert stored.text == f"{first}\n\n{again}"


async def test_a_deferred_second_whatsapp_part_goes_alone_in_the_next_round(
    twilio_whatsapp: tuple[httpx.AsyncClient, Container], twilio_api: FakeTwilio,
    clock: SettableClock,
) -> None:
    client, container = twilio_whatsapp
    await debtor_wrote_by_twilio_whatsapp(client, container, twilio_api)
    refuse_posts(twilio_api, 2, 3, 4)  # the request's three tries of part 2 (FAST_RETRY)
    message_id = await submit_and_send(container, long_reply())
    [stored] = await messages(container, "outbound")
    assert (stored.delivery_status, stored.error_code) == ("deferred", "20503")
    assert envelope(stored)["parts_sent"] == 1

    clock.advance(timedelta(minutes=1))
    assert await container.services["outbox"].release_due(clock.now()) == [message_id]
    first, *refused, last = posted_bodies(twilio_api)
    assert refused == [last] * 3 and first != last
    assert [m["body"] for m in twilio_api.created] == [first, last]
    [stored] = await messages(container, "outbound")
    assert stored.provider_message_id == twilio_api.created[-1]["sid"]
    assert stored.text == f"{first}\n\n{last}"


async def test_the_last_parts_status_callback_reaches_the_message(
    twilio_whatsapp: tuple[httpx.AsyncClient, Container], twilio_api: FakeTwilio,
) -> None:
    client, container = twilio_whatsapp
    await debtor_wrote_by_twilio_whatsapp(client, container, twilio_api)
    await submit_and_send(container, long_reply())
    part1, part2 = twilio_api.created
    [stored] = await messages(container, "outbound")
    assert stored.provider_message_id == part2["sid"]
    assert envelope(stored)["part_ids"] == [part1["sid"]]
    form = payload("twilio_status_failed_21610.json", sid=part2["sid"])
    form.update({"ErrorCode": "63016", "From": "whatsapp:+14155238886",
                 "To": f"whatsapp:{PHONE}"})
    assert (await client.post(**twilio_post(STATUS, form))).status_code == 204
    [stored] = await messages(container, "outbound")
    assert (stored.delivery_status, stored.error_code) == ("failed", "63016")


async def test_a_lookup_never_adopts_another_messages_earlier_part(
    twilio_whatsapp: tuple[httpx.AsyncClient, Container], twilio_api: FakeTwilio,
    clock: SettableClock,
) -> None:
    client, container = twilio_whatsapp
    twilio_api.now = clock.now
    await debtor_wrote_by_twilio_whatsapp(client, container, twilio_api)
    await submit_and_send(container, long_reply())
    part1 = twilio_api.created[0]
    twilio_api.fail_next(OUTAGE)  # refused, and the refusal lost: Twilio holds nothing new
    twilio_api.drop_next()
    same = OutboundMessage(ConversationKey("whatsapp", PHONE), part1["body"])
    message_id = await submit_and_send(container, same)
    clock.advance(timedelta(minutes=1))
    assert await container.services["outbox"].release_due(clock.now()) == [message_id]
    *_, stored = await messages(container, "outbound")
    assert stored.provider_message_id not in (None, part1["sid"])
    assert stored.provider_message_id == twilio_api.created[-1]["sid"]


# Defect 2: the stored text is what the debtor got, numbered options included.

async def test_the_stored_sms_is_the_body_sent_with_its_numbered_options(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeTwilio,
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    for choices in (BALANCE_CHOICES, PLAN_CHOICES):
        await submit_and_send(wired, OutboundMessage(
            ConversationKey("sms", PHONE), "How would you like to go on?", choices=choices,
            account_id=account_id))
    balance, plan = await messages(wired, "outbound")
    sent = posted_bodies(twilio_api)
    assert [balance.text, plan.text] == sent
    assert balance.text.endswith("\n\n1. Pay now\n2. Payment plan\n3. Pay later")
    assert plan.text.endswith("\n3. Pay later\n4. Talk to a person")
    assert envelope(plan)["choices"] == [[c.label, c.value] for c in PLAN_CHOICES]


async def test_the_stored_twilio_whatsapp_reply_is_the_body_sent(
    twilio_whatsapp: tuple[httpx.AsyncClient, Container], twilio_api: FakeTwilio,
) -> None:
    client, container = twilio_whatsapp
    await debtor_wrote_by_twilio_whatsapp(client, container, twilio_api)
    await submit_and_send(container, OutboundMessage(
        ConversationKey("whatsapp", PHONE), "How would you like to go on?",
        choices=PLAN_CHOICES))
    [stored] = await messages(container, "outbound")
    assert posted_bodies(twilio_api) == [stored.text]
    assert stored.text.endswith("\n4. Talk to a person")


async def test_choices_shown_as_buttons_leave_the_stored_text_as_written(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
) -> None:
    await debtor_wrote_on_whatsapp(channel_client, wired, graph_api)
    await submit_and_send(wired, OutboundMessage(
        ConversationKey("whatsapp", PHONE), "How would you like to go on?",
        choices=BALANCE_CHOICES))
    *_, stored = await messages(wired, "outbound")
    assert stored.text == "How would you like to go on?"
    [call] = graph_api.calls("/messages")
    assert call.json["type"] == "interactive"


# Defect 3: Twilio WhatsApp beside the Cloud API is named at start-up.

async def test_twilio_whatsapp_beside_the_cloud_api_is_warned_about_and_refused(
    channel_settings: Settings, clock: SettableClock, channel_client: httpx.AsyncClient,
    wired: Container, caplog: pytest.LogCaptureFixture,
) -> None:
    both = channel_settings.model_copy(update={"twilio_whatsapp_from": "+14155238886"})
    caplog.set_level(logging.WARNING, logger="backend.channels_wiring")
    adapters = build_adapters(both, clock)
    try:
        assert adapters["whatsapp"].provider == "meta"
        [record] = [r for r in caplog.records if r.name == "backend.channels_wiring"]
        assert record.levelno == logging.WARNING
        assert "TWILIO_WHATSAPP_FROM is ignored" in record.getMessage()
        assert "/webhooks/twilio/whatsapp" in record.getMessage()
        assert "4155238886" not in record.getMessage()
    finally:
        for adapter in adapters.values():
            await adapter.close()
    # What the warning announces: the running app (Cloud API) refuses Twilio's WhatsApp hook.
    form = payload("twilio_whatsapp_inbound.json")
    refused = await channel_client.post(**twilio_post(WHATSAPP, form))
    assert refused.status_code == 404


async def test_one_whatsapp_route_starts_without_the_warning(
    channel_settings: Settings, clock: SettableClock, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="backend.channels_wiring")
    twilio_only = channel_settings.model_copy(update={
        "whatsapp_access_token": None, "twilio_whatsapp_from": "+14155238886"})
    for settings, provider in ((channel_settings, "meta"), (twilio_only, "twilio")):
        adapters = build_adapters(settings, clock)
        assert adapters["whatsapp"].provider == provider
        for adapter in adapters.values():
            await adapter.close()
    assert not [r for r in caplog.records if r.name == "backend.channels_wiring"]
