"""Telegram `/start`: no SMS START; a link's outcome and a bare `/start` get their own answer."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.container import Container
from backend.services.compliance.consent import record_opt_out
from backend.services.telegram_links import make_token
from backend.settings import Settings
from backend.wiring import build_parley_app
from bot.clock import SettableClock
from bot.dialogs.base import Said
from bot.messages import ConversationKey, Reply
from bot.responses import RenderContext, Renderer
from tests.channels.conftest import TELEGRAM_SECRET
from tests.channels.helpers import StubTurnHandler, contact, messages, seed_debtor
from tests.fakes.server import FakeServer

HOOK = "/webhooks/telegram"
IDS = itertools.count(910000)
LINKED_EN = "This chat is now connected"
EXPIRED_EN = "This link has expired or was already used"
HOW_TO_LINK_EN = "To connect this chat, open the Telegram link we sent you"


def update(chat: str, text: str, language: str = "en") -> dict[str, Any]:
    sender = {"id": int(chat), "is_bot": False, "first_name": "Ana", "language_code": language}
    message: dict[str, Any] = {
        "message_id": next(IDS), "date": 1795532400, "from": sender,
        "chat": {"id": int(chat), "type": "private", "first_name": "Ana"}, "text": text}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": len(text.split()[0])}]
    return {"update_id": next(IDS), "message": message}


async def say(client: httpx.AsyncClient, container: Container, telegram_api: FakeServer,
              body: dict[str, Any]) -> list[str]:
    """Post one update; the texts the bot sent because of it."""
    before = len(telegram_api.calls("/sendMessage"))
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
               "Content-Type": "application/json"}
    assert (await client.post(HOOK, content=json.dumps(body), headers=headers)).status_code == 200
    await container.services["dispatcher"].idle()
    return [c.form["text"] for c in telegram_api.calls("/sendMessage")[before:]]


@pytest.fixture
def turns(wired: Container) -> StubTurnHandler:
    """A bot stand-in: the channel answers `/start` only where a bot answers messages."""
    handler = StubTurnHandler(wired)
    wired.services["turn_handler"] = handler
    return handler


async def account(container: Container) -> tuple[int, str]:
    _, account_id = await seed_debtor(container, now=container.clock.now())
    return account_id, make_token(container.settings.secret_key, account_id,
                                  container.clock.now())


async def test_a_deep_link_greets_the_linked_chat_and_a_used_one_says_it_expired(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer,
    turns: StubTurnHandler,
) -> None:
    account_id, token = await account(wired)
    [greeting] = await say(channel_client, wired, telegram_api, update("7001", f"/start {token}"))
    assert LINKED_EN in greeting and "subscribed" not in greeting
    point = await contact(wired, "telegram", "7001")
    assert point is not None
    [expired] = await say(channel_client, wired, telegram_api, update("7002", f"/start {token}"))
    assert EXPIRED_EN in expired and "subscribed" not in expired
    assert await contact(wired, "telegram", "7002") is None
    inbound = [m for m in await messages(wired, "inbound")]
    assert [m.text for m in inbound] == ["/start", "/start"]  # the token is never stored
    assert all(m.processed_at is not None for m in inbound)  # no turn answers them again
    assert turns.seen == []


async def test_an_invalid_link_is_answered_in_spanish_for_a_spanish_telegram(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer,
    turns: StubTurnHandler,
) -> None:
    [expired] = await say(channel_client, wired, telegram_api,
                          update("7003", "/start 1-2-deadbeef-" + "0" * 24, language="es"))
    assert "Este enlace ha caducado o ya se usó" in expired


async def test_a_bare_start_says_how_to_link_without_talking_of_a_number(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer,
    turns: StubTurnHandler,
) -> None:
    [answer] = await say(channel_client, wired, telegram_api, update("7004", "/start"))
    assert HOW_TO_LINK_EN in answer
    assert "number" not in answer and "subscribed" not in answer


async def test_an_opted_out_chats_start_is_still_its_opt_in_for_the_engine(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer,
    turns: StubTurnHandler,
) -> None:
    async with wired.sessions.begin() as session:
        await record_opt_out(session, ConversationKey("telegram", "7005"), "blocked_bot",
                             wired.clock.now())
    await say(channel_client, wired, telegram_api, update("7005", "/start"))
    [start] = await messages(wired, "inbound")
    assert turns.seen == [start.id]  # left to the turn, which reads it as START


async def test_without_a_bot_installed_a_start_is_only_stored(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer,
) -> None:
    assert await say(channel_client, wired, telegram_api, update("7007", "/start")) == []
    [start] = await messages(wired)
    assert start.text == "/start" and start.processed_at is None


def test_an_unknown_telegram_chat_is_not_told_about_a_number() -> None:
    renderer = Renderer()
    for locale in ("en", "es"):
        text = renderer.render(Said(Reply("unknown.sender")),
                               RenderContext(locale=locale, channel="telegram")).text
        assert "number" not in text and "número" not in text, text
        assert "Telegram" in text


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


async def test_the_reviewers_link_session_end_to_end(
    parley_telegram: tuple[httpx.AsyncClient, Container], telegram_api: FakeServer,
) -> None:
    client, container = parley_telegram
    _, token = await account(container)
    [greeting] = await say(client, container, telegram_api, update("7001", f"/start {token}"))
    assert LINKED_EN in greeting
    asked = await say(client, container, telegram_api, update("7001", "hello"))
    assert any("confirm who I'm talking to" in text for text in asked), asked
    assert any("date of birth" in text for text in asked), asked
    [expired] = await say(client, container, telegram_api, update("7002", f"/start {token}"))
    assert EXPIRED_EN in expired
    [unknown] = await say(client, container, telegram_api, update("7002", "hello"))
    assert "number" not in unknown and "Telegram link" in unknown
    [bare] = await say(client, container, telegram_api, update("7006", "/start"))
    assert HOW_TO_LINK_EN in bare and "subscribed" not in bare
