"""Telegram: secret header, deep-link linking, dedupe by update id, buttons, blocks = opt-out."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx

from backend.container import Container
from backend.services.telegram_links import make_token, read_token
from bot.messages import Choice, ConversationKey, OutboundMessage
from tests.channels.conftest import TELEGRAM_SECRET
from tests.channels.helpers import contact, messages, payload, seed_debtor
from tests.fakes.server import FakeServer
from tests.fakes.telegram import telegram_error

HOOK = "/webhooks/telegram"
CHAT = "777001"


async def post(client: httpx.AsyncClient, body: Any, secret: str = TELEGRAM_SECRET) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}
    return (await client.post(HOOK, content=json.dumps(body), headers=headers)).status_code


async def linked_account(client: httpx.AsyncClient, wired: Container) -> int:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    token = make_token(wired.settings.secret_key, account_id, wired.clock.now())
    assert await post(client, payload("telegram_start.json", token=token)) == 200
    return account_id


async def test_a_wrong_secret_is_refused_and_nothing_is_stored(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    assert await post(channel_client, payload("telegram_text.json"), secret="nope") == 403
    assert await messages(wired) == []


async def test_start_with_a_token_links_the_chat_once(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    await linked_account(channel_client, wired)
    point = await contact(wired, "telegram", CHAT)
    assert point is not None and point.consent
    [start] = await messages(wired)
    assert start.text == "/start"  # the token itself is never stored
    async with wired.sessions() as session:
        from backend.db.models import Conversation

        conversation = await session.get(Conversation, start.conversation_id)
        assert conversation is not None and conversation.account_id is not None


async def test_a_used_forged_or_expired_token_links_nothing(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    secret, now = wired.settings.secret_key, wired.clock.now()
    token = make_token(secret, account_id, now)
    assert len(token) <= 64 and read_token(secret, token, now) == account_id
    assert read_token("other-secret", token, now) is None
    assert read_token(secret, token, now + timedelta(days=15)) is None
    assert read_token(secret, token[:-1] + ("0" if token[-1] != "0" else "1"), now) is None
    body = payload("telegram_start.json", token="forged-token")
    assert await post(channel_client, body) == 200
    assert await contact(wired, "telegram", CHAT) is None


async def test_a_repeated_update_is_ignored(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    body = payload("telegram_text.json")
    assert await post(channel_client, body) == 200
    assert await post(channel_client, body) == 200
    [stored] = await messages(wired)
    assert stored.text == "Quiero pagar" and stored.provider_message_id == "123456:500101"


async def test_a_button_press_arrives_as_the_choice_value(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    assert await post(channel_client, payload("telegram_callback.json")) == 200
    [stored] = await messages(wired)
    assert stored.text == "option:1"


async def test_choices_go_out_as_inline_buttons(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer
) -> None:
    account_id = await linked_account(channel_client, wired)
    choices = (Choice("Pay now", "pay"), Choice("Talk to a person", "agent"))
    outbound = OutboundMessage(ConversationKey("telegram", CHAT), "What next?",
                               choices=choices, account_id=account_id)
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, outbound)
    await wired.services["outbox"].send([decision.message_id])
    [call] = telegram_api.calls("/sendMessage")
    markup = json.loads(call.form["reply_markup"])
    assert [row[0]["callback_data"] for row in markup["inline_keyboard"]] == ["pay", "agent"]
    [row] = await messages(wired, "outbound")
    assert row.delivery_status == "sent"


async def test_a_user_who_blocked_the_bot_is_opted_out_on_send(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer
) -> None:
    account_id = await linked_account(channel_client, wired)
    telegram_api.fail_next(telegram_error(403, "Forbidden: bot was blocked by the user"))
    outbound = OutboundMessage(ConversationKey("telegram", CHAT), "Hi", account_id=account_id)
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, outbound)
    await wired.services["outbox"].send([decision.message_id])
    point = await contact(wired, "telegram", CHAT)
    assert point is not None and point.opted_out_at is not None


async def test_a_kicked_member_update_opts_the_chat_out(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    await linked_account(channel_client, wired)
    assert await post(channel_client, payload("telegram_kicked.json")) == 200
    point = await contact(wired, "telegram", CHAT)
    assert point is not None and point.opted_out_at is not None


async def test_a_chat_that_never_started_the_bot_gets_nothing(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer
) -> None:
    outbound = OutboundMessage(ConversationKey("telegram", "424242"), "Hi")
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, outbound)
    assert decision.reason == "telegram_not_started"
    assert telegram_api.calls("/sendMessage") == []


async def test_set_webhook_registers_the_url_with_the_secret(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer
) -> None:
    adapter = wired.services["adapters"]["telegram"]
    assert await adapter.set_webhook("https://parley.example.com/webhooks/telegram")
    [call] = telegram_api.calls("/setWebhook")
    assert call.form["secret_token"] == TELEGRAM_SECRET
    assert call.form["url"] == "https://parley.example.com/webhooks/telegram"
