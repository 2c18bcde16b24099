"""Signed but malformed webhooks: 400 naming the field, nothing stored; unknown-but-valid: 200."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import logging
import threading
from typing import Any

import httpx
import pytest

from backend.container import Container
from bot.channels import telegram as telegram_channel
from tests.channels.conftest import TELEGRAM_SECRET
from tests.channels.helpers import messages, meta_post, payload, twilio_post
from tests.fakes.graph import APP_SECRET
from tests.fakes.server import FakeServer, Recorded, Reply

WA_HOOK = "/webhooks/whatsapp"
TG_HOOK = "/webhooks/telegram"
SMS = "/webhooks/twilio/sms"
TWILIO_WA = "/webhooks/twilio/whatsapp"
STATUS = "/webhooks/twilio/status"
MSG = "entry[0].changes[0].value.messages"
WAMID = "wamid.HBgLMTIxMjU1NTEyMzQVAgASGBQzQUE1RkE0"


def signed_bytes(raw: bytes) -> dict[str, Any]:
    """client.post keyword arguments for raw bytes with a valid X-Hub-Signature-256."""
    digest = hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return {"content": raw, "headers": {"X-Hub-Signature-256": f"sha256={digest}",
                                        "Content-Type": "application/json"}}


def wa_text(**changes: Any) -> dict[str, Any]:
    """The recorded WhatsApp text delivery with its first message's fields changed."""
    body = payload("whatsapp_cloud_text.json")
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    for name, value in changes.items():
        if value is None:
            message.pop(name, None)
        else:
            message[name] = value
    return body


def wa_batch_with_a_bad_second_message() -> dict[str, Any]:
    body = payload("whatsapp_cloud_text.json")
    value = body["entry"][0]["changes"][0]["value"]
    second = copy.deepcopy(value["messages"][0])
    second.update(id="wamid.second", timestamp="soon")
    value["messages"].append(second)
    return body


def assert_rejected(response: httpx.Response, field: str, reason: str = "") -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "malformed_payload"
    assert body["field"] == field
    assert reason in body["reason"]


# --- WhatsApp Cloud ------------------------------------------------------------------------


async def test_whatsapp_a_signed_body_that_is_not_json_is_a_400(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    response = await channel_client.post(WA_HOOK, **signed_bytes(b"{not json"))
    assert_rejected(response, "body", "not valid JSON")
    not_an_object = await channel_client.post(WA_HOOK, **meta_post(["entry"]))
    assert_rejected(not_an_object, "body", "not an object")
    assert await messages(wired) == []


@pytest.mark.parametrize(("body", "field", "reason"), [
    ({"object": "whatsapp_business_account", "entry": {"id": "1"}}, "entry", "not a list"),
    ({"object": "whatsapp_business_account"}, "entry", "required"),
    ({"entry": [{"id": "1", "changes": "x"}]}, "entry[0].changes", "not a list"),
    ({"entry": [{"changes": [{"field": "messages", "value": []}]}]},
     "entry[0].changes[0].value", "not an object"),
    ({"entry": [{"changes": [{"value": {"messages": {"id": "x"}}}]}]},
     "entry[0].changes[0].value.messages", "not a list"),
    ({"entry": [{"changes": [{"value": {"messages": ["x"]}}]}]}, f"{MSG}[0]", "not an object"),
])
async def test_whatsapp_wrong_structure_is_a_400_naming_the_path(
    channel_client: httpx.AsyncClient, wired: Container, body: Any, field: str, reason: str
) -> None:
    response = await channel_client.post(WA_HOOK, **meta_post(body))
    assert_rejected(response, field, reason)
    assert await messages(wired) == []


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"timestamp": "soon"}, f"{MSG}[0].timestamp", "not an integer"),
    ({"timestamp": "99999999999999999999"}, f"{MSG}[0].timestamp", "out of range"),
    ({"timestamp": None}, f"{MSG}[0].timestamp", "required"),
    ({"from": None}, f"{MSG}[0].from", "required"),
    ({"from": {"wa_id": "1"}}, f"{MSG}[0].from", "not a string"),
    ({"id": None}, f"{MSG}[0].id", "required"),
    ({"id": ""}, f"{MSG}[0].id", "required"),
    ({"text": "hello"}, f"{MSG}[0].text", "not an object"),
    ({"text": {"body": 12}}, f"{MSG}[0].text.body", "not a string"),
    ({"type": "interactive", "interactive": {"button_reply": "yes"}},
     f"{MSG}[0].interactive.button_reply", "not an object"),
    ({"type": "image", "image": {"caption": "receipt"}}, f"{MSG}[0].image.id", "required"),
])
async def test_whatsapp_a_broken_message_is_a_400_naming_its_field(
    channel_client: httpx.AsyncClient, wired: Container, changes: dict[str, Any], field: str,
    reason: str,
) -> None:
    response = await channel_client.post(WA_HOOK, **meta_post(wa_text(**changes)))
    assert_rejected(response, field, reason)
    assert await messages(wired) == []


async def test_whatsapp_one_bad_message_rejects_the_whole_delivery(
    channel_client: httpx.AsyncClient, wired: Container, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    response = await channel_client.post(WA_HOOK, **meta_post(wa_batch_with_a_bad_second_message()))
    assert_rejected(response, f"{MSG}[1].timestamp", "not an integer")
    assert await messages(wired) == []  # the good first message is not half-stored
    [record] = [r for r in caplog.records if "malformed" in r.getMessage()]
    line = record.getMessage()
    assert record.levelno == logging.WARNING
    assert "whatsapp" in line and f"{MSG}[1].timestamp" in line and "not an integer" in line
    assert "Cuánto" not in line and "12125551234" not in line and "soon" not in line
    # The same delivery, fixed, is then stored whole.
    fixed = wa_batch_with_a_bad_second_message()
    fixed["entry"][0]["changes"][0]["value"]["messages"][1]["timestamp"] = "1795532401"
    assert (await channel_client.post(WA_HOOK, **meta_post(fixed))).status_code == 200
    assert [m.provider_message_id for m in await messages(wired)] == [WAMID, "wamid.second"]


@pytest.mark.parametrize(("status", "field", "reason"), [
    ({"status": "read"}, "entry[0].changes[0].value.statuses[0].id", "required"),
    ({"id": "wamid.x", "status": "failed", "errors": {"code": 131047}},
     "entry[0].changes[0].value.statuses[0].errors", "not a list"),
    ({"id": "wamid.x", "status": "failed", "errors": ["131047"]},
     "entry[0].changes[0].value.statuses[0].errors[0]", "not an object"),
])
async def test_whatsapp_a_broken_status_is_a_400(
    channel_client: httpx.AsyncClient, wired: Container, status: dict[str, Any], field: str,
    reason: str,
) -> None:
    body = {"object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages",
                                               "value": {"statuses": [status]}}]}]}
    assert_rejected(await channel_client.post(WA_HOOK, **meta_post(body)), field, reason)


async def test_whatsapp_valid_events_parley_does_not_use_are_acked_and_ignored(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    reaction = wa_text(type="reaction", text=None, id="wamid.reaction",
                       reaction={"message_id": "wamid.out", "emoji": "\U0001f44d"})
    unsupported = wa_text(type="unsupported", text=None, id="wamid.unsupported",
                          errors=[{"code": 131051, "title": "Message type unknown"}])
    status = payload("whatsapp_cloud_status_read.json", wamid="wamid.unknown")
    status["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "deleted"
    other_field = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "message_template_status_update",
         "value": {"event": "APPROVED", "message_template_id": 1}}]}]}
    for body in (reaction, unsupported, status, other_field):
        response = await channel_client.post(WA_HOOK, **meta_post(body))
        assert response.status_code == 200, (body, response.text)
    # A reaction is not a message; an unsupported one is the debtor writing: kept for agents.
    assert [m.provider_message_id for m in await messages(wired)] == ["wamid.unsupported"]


# --- Twilio (form-encoded) -----------------------------------------------------------------


def sms_form(**changes: str | None) -> dict[str, str]:
    form: dict[str, str] = payload("twilio_sms_inbound.json")
    for name, value in changes.items():
        if value is None:
            form.pop(name, None)
        else:
            form[name] = value
    return form


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"MessageSid": None, "SmsMessageSid": None, "SmsSid": None}, "MessageSid", "required"),
    ({"MessageSid": "", "SmsMessageSid": "", "SmsSid": ""}, "MessageSid", "required"),
    ({"From": None}, "From", "required"),
    ({"From": ""}, "From", "required"),
    ({"NumMedia": "two"}, "NumMedia", "not a non-negative integer"),
    ({"NumMedia": "-1"}, "NumMedia", "not a non-negative integer"),
    ({"NumMedia": "1"}, "MediaUrl0", "required"),
])
async def test_twilio_sms_a_signed_form_missing_its_ids_is_a_400(
    channel_client: httpx.AsyncClient, wired: Container, changes: dict[str, str | None],
    field: str, reason: str,
) -> None:
    response = await channel_client.post(**twilio_post(SMS, sms_form(**changes)))
    assert_rejected(response, field, reason)
    assert await messages(wired) == []


async def test_twilio_a_status_callback_without_its_sid_is_a_400_an_unknown_status_a_204(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    form = payload("twilio_status_delivered.json", sid="SM0123")
    broken = {k: v for k, v in form.items() if k not in ("MessageSid", "SmsSid")}
    assert_rejected(await channel_client.post(**twilio_post(STATUS, broken)), "MessageSid",
                    "required")
    unknown = {**form, "MessageStatus": "pending_review", "SmsStatus": "pending_review"}
    assert (await channel_client.post(**twilio_post(STATUS, unknown))).status_code == 204


async def test_twilio_a_body_that_is_not_utf8_is_refused_not_a_500(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    headers = {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl",
               "Content-Type": "application/x-www-form-urlencoded"}
    response = await channel_client.post(SMS, content=b"Body=\xff\xfe&From=x", headers=headers)
    assert response.status_code == 403
    assert await messages(wired) == []



async def test_twilio_whatsapp_a_signed_form_missing_from_is_a_400(
    twilio_whatsapp: tuple[httpx.AsyncClient, Container]
) -> None:
    client, container = twilio_whatsapp
    form = {k: v for k, v in payload("twilio_whatsapp_inbound.json").items() if k != "From"}
    assert_rejected(await client.post(**twilio_post(TWILIO_WA, form)), "From", "required")
    form = {k: v for k, v in payload("twilio_whatsapp_inbound.json").items()
            if k not in ("MessageSid", "SmsMessageSid", "SmsSid")}
    assert_rejected(await client.post(**twilio_post(TWILIO_WA, form)), "MessageSid", "required")
    assert await messages(container) == []
    good = payload("twilio_whatsapp_inbound.json")
    assert (await client.post(**twilio_post(TWILIO_WA, good))).status_code == 200
    assert len(await messages(container)) == 1


# --- Telegram ------------------------------------------------------------------------------


async def tg_post(client: httpx.AsyncClient, raw: bytes) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
               "Content-Type": "application/json"}
    return await client.post(TG_HOOK, content=raw, headers=headers)


def tg_text(**message_changes: Any) -> dict[str, Any]:
    body = payload("telegram_text.json")
    for name, value in message_changes.items():
        if value is None:
            body["message"].pop(name, None)
        else:
            body["message"][name] = value
    return body


@pytest.mark.parametrize(("raw", "field", "reason"), [
    (b"{not json", "body", "not valid JSON"),
    (b"[1, 2]", "body", "object"),
    (json.dumps({"update_id": "first", "message": None}).encode(), "update_id", "integer"),
    (json.dumps({"message": {}}).encode(), "update_id", "required"),
    (json.dumps(tg_text(chat=None)).encode(), "message.chat", "required"),
    (json.dumps(tg_text(date="yesterday")).encode(), "message.date", "datetime"),
    (json.dumps(tg_text(entities=[{"type": "bold", "offset": "x", "length": 1}])).encode(),
     "message.entities[0].offset", "integer"),
])
async def test_telegram_an_update_that_does_not_validate_is_a_400(
    channel_client: httpx.AsyncClient, wired: Container, caplog: pytest.LogCaptureFixture,
    raw: bytes, field: str, reason: str,
) -> None:
    caplog.set_level(logging.WARNING)
    assert_rejected(await tg_post(channel_client, raw), field, reason)
    assert await messages(wired) == []
    lines = [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()]
    assert lines and "telegram" in lines[0] and field in lines[0]
    assert "Quiero" not in lines[0] and "yesterday" not in lines[0]


async def test_telegram_updates_parley_ignores_are_acked(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    edited = payload("telegram_text.json")
    edited["edited_message"] = edited.pop("message")
    future = {"update_id": 900001, "some_future_update": {"id": 1, "anything": True}}
    location = tg_text(text=None, location={"latitude": 40.7, "longitude": -74.0})
    for body in (edited, future, location):
        response = await tg_post(channel_client, json.dumps(body).encode())
        assert response.status_code == 200, (body, response.text)
    assert await messages(wired) == []


# --- Telegram: the press is stored before answerCallbackQuery ------------------------------


def blocking_answers(server: FakeServer) -> threading.Event:
    """Make the fake hold every answerCallbackQuery until the returned event is set."""
    release = threading.Event()
    route = server.router

    def router(rec: Recorded) -> Reply:
        if rec.path.endswith("/answerCallbackQuery"):
            release.wait(10)
        return route(rec)

    server.router = router
    return release


async def stored_within(container: Container, seconds: float) -> bool:
    for _ in range(int(seconds / 0.05)):
        if await messages(container):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_button_press_is_stored_before_the_answer_is_made(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer
) -> None:
    release = blocking_answers(telegram_api)
    body = payload("telegram_callback.json")
    posting = asyncio.create_task(tg_post(channel_client, json.dumps(body).encode()))
    try:
        # Stored while answerCallbackQuery has not returned (it would block up to 5 s).
        assert await stored_within(wired, 2.0)
    finally:
        release.set()
    assert (await posting).status_code == 200
    [stored] = await messages(wired)
    assert (stored.text, stored.choice_value) == ("[option 2]", "option:1")
    [call] = telegram_api.calls("/answerCallbackQuery")  # the spinner is still cleared
    assert call.form["callback_query_id"] == body["callback_query"]["id"]


async def test_a_press_is_kept_when_the_answer_times_out(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(telegram_channel, "ANSWER_TIMEOUT", 0.3)
    release = blocking_answers(telegram_api)
    try:
        response = await tg_post(channel_client,
                                 json.dumps(payload("telegram_callback.json")).encode())
    finally:
        release.set()
    assert response.status_code == 200
    [stored] = await messages(wired)
    assert (stored.text, stored.choice_value) == ("[option 2]", "option:1")
