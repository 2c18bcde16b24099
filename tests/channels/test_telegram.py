"""Telegram: secret header, deep-link linking, dedupe by update id, buttons, media, opt-outs."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, ContactPoint, Conversation, Handoff
from backend.services.telegram_links import REFUSED_ACTION, make_token, read_token
from backend.settings import Settings
from backend.wiring import build_parley_app
from bot.clock import SettableClock
from bot.messages import Choice, ConversationKey, OutboundMessage
from tests.channels.conftest import TELEGRAM_SECRET
from tests.channels.helpers import contact, messages, payload, seed_debtor
from tests.fakes.server import FakeServer
from tests.fakes.telegram import telegram_error

HOOK = "/webhooks/telegram"
CHAT = "777001"
UPDATE_IDS = itertools.count(600000)


async def post(client: httpx.AsyncClient, body: Any, secret: str = TELEGRAM_SECRET) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}
    return (await client.post(HOOK, content=json.dumps(body), headers=headers)).status_code


async def linked_account(client: httpx.AsyncClient, wired: Container) -> int:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    token = make_token(wired.settings.secret_key, account_id, wired.clock.now())
    assert await post(client, payload("telegram_start.json", token=token)) == 200
    return account_id


def message_update(chat: str = CHAT, **fields: Any) -> dict[str, Any]:
    """A private-chat `message` update with a fresh update id; `fields` are the message's."""
    sender = {"id": int(chat), "is_bot": False, "first_name": "Ana"}
    message = {"message_id": next(UPDATE_IDS), "date": 1795532400, "from": sender,
               "chat": {"id": int(chat), "type": "private", "first_name": "Ana"}, **fields}
    return {"update_id": next(UPDATE_IDS), "message": message}


def start_update(token: str, chat: str = CHAT) -> dict[str, Any]:
    """`/start <token>` as a deep link delivers it."""
    return message_update(chat, text=f"/start {token}",
                          entities=[{"type": "bot_command", "offset": 0, "length": 6}])


async def second_debtor(wired: Container, balance: str = "987.65") -> int:
    """Another debtor's account, with a balance no one else has; its id."""
    _, account_id = await seed_debtor(wired, now=wired.clock.now(), phone="+12125559876")
    async with wired.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        account.current_balance = Decimal(balance)
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
    assert (stored.text, stored.choice_value) == ("[option 2]", "option:1")


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


async def test_a_chat_linked_to_a_debtor_is_never_relinked_to_another(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    first = await linked_account(channel_client, wired)
    other = await second_debtor(wired)
    token = make_token(wired.settings.secret_key, other, wired.clock.now())
    assert await post(channel_client, start_update(token)) == 200
    async with wired.sessions() as session:
        points = (await session.scalars(select(ContactPoint).where(
            ContactPoint.channel == "telegram", ContactPoint.address == CHAT))).all()
        [conversation] = (await session.scalars(select(Conversation))).all()
        refused = await session.scalar(select(AuditEvent).where(
            AuditEvent.action == REFUSED_ACTION))
        handoff = await session.scalar(select(Handoff))
        debtors = {a.id: a.debtor_id for a in (await session.scalars(select(Account))).all()}
    assert [p.debtor_id for p in points] == [debtors[first]]
    assert conversation.account_id == first and conversation.ownership == "queued"
    assert refused is not None and refused.data["account_id"] == other
    assert refused.data["reason"] == "linked_to_other_debtor"
    assert handoff is not None and handoff.reason == "telegram_link_refused"
    # The token stays unused: the debtor it was made for can still link their own chat.
    assert await post(channel_client, start_update(token, chat="777002")) == 200
    mine = await contact(wired, "telegram", "777002")
    assert mine is not None and mine.debtor_id == debtors[other]


async def test_a_link_to_another_account_of_the_same_debtor_proceeds(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    first = await linked_account(channel_client, wired)
    async with wired.sessions.begin() as session:
        account = await session.get(Account, first)
        assert account is not None
        second = Account(creditor_id=account.creditor_id, portfolio_id=account.portfolio_id,
                         debtor_id=account.debtor_id, external_ref="A-2", currency="USD",
                         original_balance=Decimal("90.00"), current_balance=Decimal("90.00"),
                         due_date=account.due_date, created_at=account.created_at,
                         updated_at=account.updated_at)
        session.add(second)
        await session.flush()
        second_id = second.id
    token = make_token(wired.settings.secret_key, second_id, wired.clock.now())
    assert await post(channel_client, start_update(token)) == 200
    async with wired.sessions() as session:
        [conversation] = (await session.scalars(select(Conversation))).all()
        refused = await session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == REFUSED_ACTION))
    assert conversation.account_id == second_id and conversation.ownership == "bot"
    assert refused is None


@pytest.fixture
async def parley_telegram(
    channel_settings: Settings, clock: SettableClock, trained_model_dir: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    """The whole app (`parley serve`'s) with Telegram against the fake and the trained NLU."""
    app = build_parley_app(channel_settings.model_copy(
        update={"nlu_model_dir": trained_model_dir}), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, app.state.container


async def test_a_forwarded_link_of_another_debtor_discloses_nothing_of_theirs(
    parley_telegram: tuple[httpx.AsyncClient, Container], telegram_api: FakeServer
) -> None:
    client, container = parley_telegram
    chat = "5001"
    _, mine = await seed_debtor(container, now=container.clock.now())
    theirs = await second_debtor(container)
    secret, now = container.settings.secret_key, container.clock.now()

    async def say(body: dict[str, Any]) -> list[str]:
        before = len(telegram_api.calls("/sendMessage"))
        assert await post(client, body) == 200
        await container.services["dispatcher"].idle()
        return [c.form["text"] for c in telegram_api.calls("/sendMessage")[before:]]

    await say(start_update(make_token(secret, mine, now), chat))
    await say(message_update(chat, text="04/02/1985"))
    verified = await say(message_update(chat, text="10001"))
    assert verified, "debtor 1 is verified"
    await say(start_update(make_token(secret, theirs, now), chat))
    await say(message_update(chat, text="how much do I owe"))
    sent = [c.form["text"] for c in telegram_api.calls("/sendMessage")]
    assert not any("987.65" in text for text in sent), sent


async def test_a_button_press_is_answered_so_the_button_stops_spinning(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer
) -> None:
    body = payload("telegram_callback.json")
    assert await post(channel_client, body) == 200
    [call] = telegram_api.calls("/answerCallbackQuery")
    assert call.form["callback_query_id"] == body["callback_query"]["id"]


async def test_a_press_is_stored_even_when_answering_it_fails(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer
) -> None:
    telegram_api.fail_next(telegram_error(400, "Bad Request: query is too old"))
    assert await post(channel_client, payload("telegram_callback.json")) == 200
    [stored] = await messages(wired)
    assert (stored.text, stored.choice_value) == ("[option 2]", "option:1")


async def test_media_are_stored_with_their_attachments(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    photo = [{"file_id": f"AgAD-photo-{size}", "file_unique_id": f"u{size}", "width": size,
              "height": size} for size in (90, 1280)]
    updates = [
        message_update(photo=photo),
        message_update(voice={"file_id": "AwAD-voice", "file_unique_id": "v", "duration": 3,
                              "mime_type": "audio/ogg"}),
        message_update(document={"file_id": "BQAD-doc", "file_unique_id": "d",
                                 "file_name": "receipt.pdf", "mime_type": "application/pdf"},
                       caption="my receipt"),
        message_update(sticker={"file_id": "CAAD-sticker", "file_unique_id": "s", "type":
                                "regular", "width": 512, "height": 512, "is_animated": False,
                                "is_video": False}),
    ]
    for body in updates:
        assert await post(channel_client, body) == 200
    stored = await messages(wired)
    assert [(m.text, m.attachments) for m in stored] == [
        ("", [{"url": "telegram:photo:AgAD-photo-1280", "content_type": None}]),
        ("", [{"url": "telegram:voice:AwAD-voice", "content_type": "audio/ogg"}]),
        ("my receipt", [{"url": "telegram:document:BQAD-doc",
                         "content_type": "application/pdf"}]),
        ("", [{"url": "telegram:sticker:CAAD-sticker", "content_type": None}]),
    ]
