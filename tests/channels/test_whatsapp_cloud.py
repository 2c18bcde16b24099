"""WhatsApp Cloud API: handshake, raw-body signatures, statuses, the 24-hour window and 131047."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from backend.container import Container
from backend.services.compliance.consent import record_opt_out
from backend.services.reminders import send_reminder
from backend.settings import Settings
from bot.channels.base import Delivery, RawRequest
from bot.channels.whatsapp_cloud import WhatsAppCloudAdapter
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.channels.helpers import PHONE, messages, meta_post, payload, seed_debtor
from tests.fakes.graph import PHONE_NUMBER_ID, VERIFY_TOKEN, graph_error
from tests.fakes.server import FakeServer

HOOK = "/webhooks/whatsapp"
WA = ConversationKey("whatsapp", PHONE)


async def test_the_subscription_handshake_echoes_only_for_our_token(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    ok = await channel_client.get(HOOK, params={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    bad = await channel_client.get(HOOK, params={
        "hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    assert bad.status_code == 403


def test_the_cloud_channel_is_all_four_settings_or_none(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "EAAG-token")
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID)
    with pytest.raises(ValueError, match="needs WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("WHATSAPP_APP_SECRET", "  ")  # blank is not a secret
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
    with pytest.raises(ValueError, match="needs WHATSAPP_APP_SECRET as well"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("WHATSAPP_APP_SECRET", "app-secret")
    assert Settings(_env_file=None).whatsapp_app_secret == "app-secret"  # type: ignore[call-arg]


async def test_an_adapter_without_secrets_accepts_no_signature_and_no_handshake() -> None:
    adapter = WhatsAppCloudAdapter(httpx.AsyncClient(), api_url="http://127.0.0.1:9",
                                   phone_number_id=PHONE_NUMBER_ID, access_token="t",
                                   app_secret="", verify_token="")
    forged = meta_post(payload("whatsapp_cloud_text.json"), secret="")  # an empty key
    headers = {k.lower(): v for k, v in forged["headers"].items()}
    assert not adapter.verify(RawRequest("POST", HOOK, "", headers, forged["content"]))
    assert adapter.challenge("subscribe", "", "1158201444") is None
    await adapter.close()


async def test_a_signed_message_is_stored_once_and_a_reserialised_body_is_refused(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    body = payload("whatsapp_cloud_text.json")
    request = meta_post(body)
    assert (await channel_client.post(HOOK, **request)).status_code == 200
    assert (await channel_client.post(HOOK, **request)).status_code == 200
    [stored] = await messages(wired)
    assert (stored.channel, stored.text) == ("whatsapp", "¿Cuánto debo?")
    pretty = json.dumps(body, indent=2).encode()
    forged = {"content": pretty, "headers": request["headers"]}
    assert (await channel_client.post(HOOK, **forged)).status_code == 403


async def reminder_outside_window(wired: Container) -> int:
    _, account_id = await seed_debtor(wired, now=wired.clock.now(), channels=("whatsapp",))
    outbound = OutboundMessage(WA, "Hello", account_id=account_id, template="parley_reminder",
                               template_vars={"1": "https://pay.example.com/x"})
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, outbound)
    assert decision.allowed and decision.message_id is not None
    await wired.services["outbox"].send([decision.message_id])
    return decision.message_id


async def test_outside_the_window_the_template_is_sent(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer
) -> None:
    await reminder_outside_window(wired)
    [call] = graph_api.calls("/messages")
    assert call.json["type"] == "template"
    assert call.json["template"]["name"] == "parley_reminder" and call.json["to"] == PHONE[1:]
    assert call.json["template"]["language"] == {"code": "en_US"}
    assert call.headers["authorization"] == "Bearer test-access-token"


async def test_a_spanish_speakers_reminder_template_is_the_spanish_one(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer
) -> None:
    now = wired.clock.now()
    _, account_id = await seed_debtor(wired, now=now, channels=("whatsapp",), language="es")
    async with wired.sessions.begin() as session:
        result = await send_reminder(session, wired.services["outbox"], wired.services["gate"],
                                     account_id, now, wired.services["adapters"])
    assert result.decision is not None and result.decision.message_id is not None
    await wired.services["outbox"].send([result.decision.message_id])
    [call] = graph_api.calls("/messages")
    assert call.json["template"]["name"] == "parley_reminder"
    assert call.json["template"]["language"] == {"code": "es"}


async def test_inside_the_window_text_goes_and_131047_falls_back_to_the_template(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
    clock: SettableClock,
) -> None:
    await seed_debtor(wired, now=clock.now(), channels=("whatsapp",))
    assert (await channel_client.post(HOOK, **meta_post(payload("whatsapp_cloud_text.json")))
            ).status_code == 200
    graph_api.fail_next(graph_error(131047, 400, "Re-engagement message"))
    outbound = OutboundMessage(WA, "Your answer", template="parley_reminder")
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, outbound)
    await wired.services["outbox"].send([decision.message_id])
    kinds = [c.json["type"] for c in graph_api.calls("/messages")]
    assert kinds == ["text", "template"]


async def test_a_failed_131047_status_resends_as_template_and_read_skips_delivered(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
    clock: SettableClock,
) -> None:
    await seed_debtor(wired, now=clock.now(), channels=("whatsapp",))
    await channel_client.post(HOOK, **meta_post(payload("whatsapp_cloud_text.json")))
    outbound = OutboundMessage(WA, "Your answer", template="parley_reminder")
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, outbound)
    await wired.services["outbox"].send([decision.message_id])
    [row] = await messages(wired, "outbound")
    wamid = row.provider_message_id or ""
    failed = payload("whatsapp_cloud_status_failed_131047.json", wamid=wamid)
    assert (await channel_client.post(HOOK, **meta_post(failed))).status_code == 200
    assert [c.json["type"] for c in graph_api.calls("/messages")] == ["text", "template"]
    [row] = await messages(wired, "outbound")
    read = payload("whatsapp_cloud_status_read.json", wamid=row.provider_message_id or "")
    await channel_client.post(HOOK, **meta_post(read))
    [row] = await messages(wired, "outbound")
    assert row.delivery_status == "read"


async def test_free_text_after_the_window_is_blocked_without_a_template(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
    clock: SettableClock,
) -> None:
    await seed_debtor(wired, now=clock.now(), channels=("whatsapp",))
    await channel_client.post(HOOK, **meta_post(payload("whatsapp_cloud_text.json")))
    clock.advance(timedelta(hours=25))
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, OutboundMessage(WA, "Hi"))
    assert decision.reason == "whatsapp_window_closed"
    assert graph_api.calls("/messages") == []


async def text_sent_inside_window(channel_client: httpx.AsyncClient, wired: Container,
                                  purpose: Purpose = Purpose.REPLY) -> str:
    _, account_id = await seed_debtor(wired, now=wired.clock.now(), channels=("whatsapp",))
    await channel_client.post(HOOK, **meta_post(payload("whatsapp_cloud_text.json")))
    outbound = OutboundMessage(WA, "Your answer", purpose=purpose, account_id=account_id,
                               template="parley_reminder")
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, outbound)
    assert decision.allowed
    await wired.services["outbox"].send([decision.message_id])
    [row] = await messages(wired, "outbound")
    return row.provider_message_id or ""


async def test_a_late_131047_after_stop_is_blocked_not_resent(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
    clock: SettableClock,
) -> None:
    wamid = await text_sent_inside_window(channel_client, wired)
    async with wired.sessions.begin() as session:
        await record_opt_out(session, WA, "keyword:STOP", clock.now())
    failed = payload("whatsapp_cloud_status_failed_131047.json", wamid=wamid)
    assert (await channel_client.post(HOOK, **meta_post(failed))).status_code == 200
    assert [c.json["type"] for c in graph_api.calls("/messages")] == ["text"]
    [row] = await messages(wired, "outbound")
    assert (row.delivery_status, row.error_code) == ("blocked", "opted_out")


async def test_a_late_131047_at_night_waits_for_the_morning_then_goes_as_template(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
    clock: SettableClock,
) -> None:
    wamid = await text_sent_inside_window(channel_client, wired, Purpose.REMINDER)
    clock.advance(timedelta(hours=12))  # 22:00 in New York
    failed = payload("whatsapp_cloud_status_failed_131047.json", wamid=wamid)
    assert (await channel_client.post(HOOK, **meta_post(failed))).status_code == 200
    assert [c.json["type"] for c in graph_api.calls("/messages")] == ["text"]
    [row] = await messages(wired, "outbound")
    assert row.delivery_status == "deferred"
    clock.advance(timedelta(hours=11))  # 09:00
    assert await wired.services["outbox"].release_due(clock.now()) == [row.id]
    assert [c.json["type"] for c in graph_api.calls("/messages")] == ["text", "template"]


def media_message(kind: str, media: dict[str, str], wamid: str) -> dict[str, object]:
    body = payload("whatsapp_cloud_text.json")
    [message] = body["entry"][0]["changes"][0]["value"]["messages"]
    del message["text"]
    message.update({"id": wamid, "type": kind, kind: media})
    return body


async def test_media_keep_their_caption_as_text_and_the_media_as_attachments(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    image = media_message("image", {"id": "1479537139650973", "mime_type": "image/jpeg",
                                    "sha256": "abc", "caption": "Mi recibo"}, "wamid.IMG1")
    voice = media_message("audio", {"id": "2287418594986524", "mime_type": "audio/ogg",
                                    "voice": "true"}, "wamid.AUD1")
    for body in (image, voice):
        assert (await channel_client.post(HOOK, **meta_post(body))).status_code == 200
    first, second = await messages(wired)
    assert first.text == "Mi recibo"
    assert first.attachments == [{"url": "whatsapp-media:image:1479537139650973",
                                  "content_type": "image/jpeg"}]
    assert second.text == ""
    assert second.attachments == [{"url": "whatsapp-media:audio:2287418594986524",
                                   "content_type": "audio/ogg"}]


async def test_the_template_language_comes_from_the_setting(graph_api: FakeServer) -> None:
    adapter = WhatsAppCloudAdapter(
        httpx.AsyncClient(), api_url=graph_api.base + "/v21.0", phone_number_id=PHONE_NUMBER_ID,
        access_token="t", app_secret="s", verify_token="v",
        template_languages=Settings(
            whatsapp_template_languages="en=en_GB, es=es_MX").template_languages)
    delivery = Delivery(WA, "Hello", "k1", template="parley_reminder", use_template=True)
    await adapter.send(delivery)
    await adapter.close()
    [call] = graph_api.calls("/messages")
    assert call.json["template"]["language"] == {"code": "en_GB"}
    assert (adapter.template_language("es"), adapter.template_language("fr")) == ("es_MX", "en_GB")


def test_the_default_template_languages_map_english_and_spanish() -> None:
    found = Settings(_env_file=None).template_languages  # type: ignore[call-arg]
    assert found == {"en": "en_US", "es": "es"}
    with pytest.raises(ValueError, match="WHATSAPP_TEMPLATE_LANGUAGES must be"):
        Settings(whatsapp_template_languages="es=spanish")
