"""Channel fixes: another business number's WhatsApp deliveries, the menu above the footer."""

from __future__ import annotations

import copy
import logging
from typing import Any

import httpx
import pytest

from backend.container import Container
from bot.channels.base import ChannelLimits, RawRequest
from bot.channels.rendering import render
from bot.channels.whatsapp_cloud import CLOUD_LIMITS, WhatsAppCloudAdapter
from bot.clock import SettableClock
from bot.messages import Choice
from tests.channels.helpers import messages, meta_post, payload, seed_debtor
from tests.fakes.graph import APP_SECRET, PHONE_NUMBER_ID
from tests.fakes.server import FakeServer

HOOK = "/webhooks/whatsapp"
OTHER_NUMBER_ID = "999999"
FOOTER = ("This is a communication from a debt collector.\n"
          "Send STOP to stop messages on WhatsApp.")
PLAN_TEXT = ("Here is what I can offer:\n1. Pay $89.97 today\n2. 2 monthly payments of $44.99\n"
             "3. 3 monthly payments of $29.99\n" + FOOTER)
PLAN_CHOICES = (Choice("Pay $89.97 today", "option:0"),
                Choice("2 monthly payments of $44.99", "option:1"),
                Choice("3 monthly payments of $29.99", "option:2"),
                Choice("Talk to a person", "intent:request_agent"))


def _for_number(number_id: str | None, body: dict[str, Any] | None = None) -> dict[str, Any]:
    body = copy.deepcopy(body or payload("whatsapp_cloud_text.json"))
    value = body["entry"][0]["changes"][0]["value"]
    if number_id is None:
        value.pop("metadata")
    else:
        value["metadata"]["phone_number_id"] = number_id
    return body


async def _parse(body: dict[str, Any]) -> Any:
    adapter = WhatsAppCloudAdapter(httpx.AsyncClient(), api_url="http://127.0.0.1:9",
                                   phone_number_id=PHONE_NUMBER_ID, access_token="t",
                                   app_secret=APP_SECRET, verify_token="v")
    request = meta_post(body)
    try:
        return await adapter.parse(RawRequest("POST", HOOK, "", {}, request["content"]))
    finally:
        await adapter.close()


async def test_only_deliveries_for_our_business_number_are_read() -> None:
    ours = await _parse(_for_number(PHONE_NUMBER_ID))
    assert [m.text for m in ours.messages] == ["¿Cuánto debo?"]
    assert (await _parse(_for_number(OTHER_NUMBER_ID))).messages == ()
    assert (await _parse(_for_number(None))).messages == ()  # no number named: not provably ours
    status = payload("whatsapp_cloud_status_read.json", wamid="wamid.x")
    assert (await _parse(_for_number(OTHER_NUMBER_ID, status))).statuses == ()


async def test_a_batch_keeps_our_change_and_drops_the_other_numbers() -> None:
    body = _for_number(PHONE_NUMBER_ID)
    other = copy.deepcopy(body["entry"][0]["changes"][0])
    other["value"]["metadata"]["phone_number_id"] = OTHER_NUMBER_ID
    other["value"]["messages"][0]["id"] = "wamid.other"
    body["entry"][0]["changes"].append(other)
    batch = await _parse(body)
    assert [m.provider_message_id for m in batch.messages] == [
        body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]]


async def test_another_numbers_message_is_acknowledged_stored_nowhere_and_not_answered(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
    clock: SettableClock, caplog: pytest.LogCaptureFixture,
) -> None:
    await seed_debtor(wired, now=clock.now(), channels=("whatsapp",))
    caplog.set_level(logging.INFO, logger="bot.channels.whatsapp_cloud")
    response = await channel_client.post(HOOK, **meta_post(_for_number(OTHER_NUMBER_ID)))
    assert response.status_code == 200
    assert await messages(wired) == []
    assert graph_api.calls("/messages") == []
    [record] = [r for r in caplog.records if r.name == "bot.channels.whatsapp_cloud"]
    assert record.levelno == logging.INFO and "another business number" in record.getMessage()
    assert "12125551234" not in record.getMessage() and "15550783881" not in record.getMessage()


def test_a_plan_menu_keeps_every_option_together_and_the_footer_last() -> None:
    [part] = render(PLAN_TEXT, PLAN_CHOICES, CLOUD_LIMITS).parts
    assert part == ("Here is what I can offer:\n1. Pay $89.97 today\n"
                    "2. 2 monthly payments of $44.99\n3. 3 monthly payments of $29.99\n"
                    "4. Talk to a person\n" + FOOTER)


def test_sms_menu_also_goes_above_the_footer() -> None:
    text = "Options:\n1. Pay now\n2. Set up a plan\nReply STOP to stop messages to this number."
    choices = (Choice("Pay now", "pay"), Choice("Set up a plan", "plan"),
               Choice("Talk to a person", "intent:request_agent"))
    [part] = render(text, choices, ChannelLimits(max_chars=1600)).parts
    assert part.endswith("2. Set up a plan\n3. Talk to a person\n"
                         "Reply STOP to stop messages to this number.")
