"""Twilio SMS webhook: signature against the public URL, stored before the ack, deduped."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from backend.container import Container
from backend.settings import Settings
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.channels.conftest import REMINDER_SID, SPANISH_REMINDER_SID
from tests.channels.helpers import PHONE, contact, messages, payload, seed_debtor, twilio_post
from tests.fakes.server import FakeServer
from tests.fakes.twilio import twilio_error

SMS = "/webhooks/twilio/sms"
WHATSAPP = "/webhooks/twilio/whatsapp"


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



async def send_whatsapp(container: Container, purpose: Purpose) -> None:
    _, account_id = await seed_debtor(container, now=container.clock.now(),
                                      channels=("whatsapp",))
    outbound = OutboundMessage(ConversationKey("whatsapp", PHONE), "Hello", purpose=purpose,
                               account_id=account_id, template="parley_reminder",
                               template_vars={"1": "https://pay.example.com/x"})
    async with container.sessions.begin() as session:
        decision = await container.services["outbox"].submit(session, outbound)
    assert decision.allowed
    await container.services["outbox"].send([decision.message_id])


async def test_a_reminder_outside_the_window_goes_by_content_sid(
    twilio_whatsapp: tuple[httpx.AsyncClient, Container], twilio_api: FakeServer
) -> None:
    _, container = twilio_whatsapp
    await send_whatsapp(container, Purpose.REMINDER)
    [call] = twilio_api.calls("/Messages.json")
    assert call.form["ContentSid"] == REMINDER_SID and "Body" not in call.form
    assert json.loads(call.form["ContentVariables"]) == {"1": "https://pay.example.com/x"}
    assert call.form["To"] == f"whatsapp:{PHONE}"
    [stored] = await messages(container, "outbound")
    assert stored.delivery_status == "queued" and stored.error_code is None


async def test_63016_inside_the_window_falls_back_to_the_content_template(
    twilio_whatsapp: tuple[httpx.AsyncClient, Container], twilio_api: FakeServer
) -> None:
    client, container = twilio_whatsapp
    form = payload("twilio_whatsapp_inbound.json")
    assert (await client.post(**twilio_post(WHATSAPP, form))).status_code == 200
    await container.services["dispatcher"].idle()
    twilio_api.fail_next(twilio_error(63016, 400, "Outside the allowed window"))
    await send_whatsapp(container, Purpose.REPLY)
    calls = twilio_api.calls("/Messages.json")
    assert [c.form.get("Body") for c in calls] == ["Hello", None]
    assert calls[1].form["ContentSid"] == REMINDER_SID
    [stored] = await messages(container, "outbound")
    assert stored.delivery_status == "queued" and stored.error_code is None


async def test_a_spanish_reminder_goes_by_the_spanish_content_sid(
    twilio_whatsapp: tuple[httpx.AsyncClient, Container], twilio_api: FakeServer
) -> None:
    _, container = twilio_whatsapp
    outbox = container.services["outbox"]
    _, account_id = await seed_debtor(container, now=container.clock.now(),
                                      channels=("whatsapp",))
    for language in ("es", "en"):
        outbound = OutboundMessage(ConversationKey("whatsapp", PHONE), "Hola",
                                   purpose=Purpose.REMINDER, account_id=account_id,
                                   template="parley_reminder", template_vars={"1": "x"},
                                   language=language)
        async with container.sessions.begin() as session:
            decision = await outbox.submit(session, outbound)
        await outbox.send([decision.message_id])
    calls = twilio_api.calls("/Messages.json")
    assert [c.form["ContentSid"] for c in calls] == [SPANISH_REMINDER_SID, REMINDER_SID]


@pytest.mark.parametrize("value", ["parley_reminder", "parley_reminder=SM123", "=HX" + "0" * 32])
def test_a_malformed_content_sid_setting_is_refused_with_its_name(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_WHATSAPP_CONTENT_SIDS", value)
    with pytest.raises(ValueError, match="TWILIO_WHATSAPP_CONTENT_SIDS must be"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_content_sids_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    other = "HX" + "f" * 32
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token")
    monkeypatch.setenv("TWILIO_WHATSAPP_FROM", "+14155238886")
    monkeypatch.setenv("TWILIO_WHATSAPP_CONTENT_SIDS",
                       f"parley_reminder={REMINDER_SID}, parley_reminder.es = {other}")
    found = Settings(_env_file=None).content_sids  # type: ignore[call-arg]
    assert found == {"parley_reminder": REMINDER_SID, "parley_reminder.es": other}
