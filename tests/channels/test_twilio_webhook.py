"""Twilio SMS webhook: signature against the public URL, stored before the ack, deduped."""

from __future__ import annotations

import asyncio

import httpx

from backend.container import Container
from tests.channels.helpers import PHONE, contact, messages, payload, seed_debtor, twilio_post

SMS = "/webhooks/twilio/sms"


async def test_a_signed_message_is_stored_and_acked_with_empty_twiml(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    form = payload("twilio_sms_inbound.json")
    response = await channel_client.post(**twilio_post(SMS, form, query="tenant=acme"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert response.text.endswith("<Response />")
    [stored] = await messages(wired)
    assert (stored.channel, stored.provider_message_id) == ("sms", form["MessageSid"])
    assert stored.text == "Hi, who is this?" and stored.processed_at is None


async def test_a_forged_signature_is_refused_before_anything_is_stored(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    request = twilio_post(SMS, payload("twilio_sms_inbound.json"))
    request["headers"]["X-Twilio-Signature"] = "bm90IGEgc2lnbmF0dXJl"
    assert (await channel_client.post(**request)).status_code == 403
    missing = twilio_post(SMS, payload("twilio_sms_inbound.json"))
    del missing["headers"]["X-Twilio-Signature"]
    assert (await channel_client.post(**missing)).status_code == 403
    assert await messages(wired) == []


async def test_the_url_twilio_signed_is_the_public_one_not_the_proxied_one(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    # Signed for the internal host the app sees behind the proxy: must not validate.
    request = twilio_post(SMS, payload("twilio_sms_inbound.json"), base="http://testserver")
    assert (await channel_client.post(**request)).status_code == 403
    dropped_query = twilio_post(SMS, payload("twilio_sms_inbound.json"), query="tenant=acme")
    dropped_query["url"] = SMS
    assert (await channel_client.post(**dropped_query)).status_code == 403


async def test_a_tampered_blank_field_breaks_the_signature(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    form = payload("twilio_sms_inbound.json")
    request = twilio_post(SMS, form)
    request["content"] = request["content"].replace("FromCity=&", "FromCity=Boston&")
    assert (await channel_client.post(**request)).status_code == 403


async def test_a_duplicate_delivery_is_acked_and_ignored(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    seen: list[int] = []

    async def handler(message_id: int) -> None:
        seen.append(message_id)

    wired.services["turn_handler"] = handler
    request = twilio_post(SMS, payload("twilio_sms_inbound.json"))
    first = await channel_client.post(**request)
    second = await channel_client.post(**request)
    await wired.services["dispatcher"].idle()
    assert first.status_code == second.status_code == 200
    assert len(await messages(wired)) == 1
    assert len(seen) == 1


async def test_the_message_is_committed_before_the_ack_and_processed_after(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    release = asyncio.Event()

    async def slow_handler(message_id: int) -> None:
        await release.wait()

    wired.services["turn_handler"] = slow_handler
    response = await channel_client.post(**twilio_post(SMS, payload("twilio_sms_inbound.json")))
    assert response.status_code == 200
    assert len(await messages(wired)) == 1  # visible to another session: committed
    release.set()


async def test_mms_media_are_kept_as_attachments(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    response = await channel_client.post(**twilio_post(SMS, payload("twilio_mms_inbound.json")))
    assert response.status_code == 200
    [stored] = await messages(wired)
    assert [a["content_type"] for a in stored.attachments or []] == [
        "image/jpeg", "application/pdf"]


async def test_twilio_advanced_opt_out_stop_records_an_opt_out(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    await seed_debtor(wired, now=wired.clock.now())
    form = {**payload("twilio_sms_inbound.json"), "Body": "STOP", "OptOutType": "STOP"}
    assert (await channel_client.post(**twilio_post(SMS, form))).status_code == 200
    point = await contact(wired, "sms", PHONE)
    assert point is not None and point.opted_out_at is not None
