"""Telegram gaps: a press is stored as its label; `/start` with a person on it, or a reused link."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import update as sql_update

from backend.container import Container
from backend.db.models import Conversation
from backend.services.compliance.consent import record_opt_out
from bot.messages import ConversationKey
from tests.channels.conftest import TELEGRAM_SECRET
from tests.channels.helpers import StubTurnHandler, contact, messages
from tests.channels.test_fixes_telegram_start import EXPIRED_EN, account, say, update
from tests.fakes.server import FakeServer

BEGIN_EN = "send me any message to begin"
TEAM_EN = "a member of our team will reply here"


@pytest.fixture
def turns(wired: Container) -> StubTurnHandler:
    handler = StubTurnHandler(wired)
    wired.services["turn_handler"] = handler
    return handler


def press(chat: int, update_id: int, data: str, keyboard: list[tuple[str, str]] | None
          ) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": 3, "date": 1795532470, "chat": {"id": chat, "type": "private"},
        "from": {"id": 123456, "is_bot": True, "first_name": "Parley"},
        "text": "Here is what I can offer:"}
    if keyboard is not None:
        message["reply_markup"] = {"inline_keyboard": [
            [{"text": label, "callback_data": value}] for label, value in keyboard]}
    return {"update_id": update_id, "callback_query": {
        "id": f"q{update_id}", "chat_instance": "-5412345", "data": data,
        "from": {"id": chat, "is_bot": False, "first_name": "Ana"}, "message": message}}


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
               "Content-Type": "application/json"}
    response = await client.post("/webhooks/telegram", content=json.dumps(body), headers=headers)
    assert response.status_code == 200


async def test_a_press_is_stored_as_the_label_the_debtor_pressed(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer
) -> None:
    offers = [("Pay the balance of $420.50 now", "option:0"),
              ("6 monthly payments of $70.09 starting Dec 1", "option:1"),
              ("Talk to a person", "intent:request_agent")]
    await post(channel_client, press(777001, 600001, "option:0", offers))
    await post(channel_client, press(777001, 600002, "intent:request_agent", offers))
    await post(channel_client, press(777001, 600003, "option:1", None))  # no keyboard to read
    await post(channel_client, press(777001, 600004, "intent:affirm", []))
    stored = await messages(wired)
    assert [m.text for m in stored] == ["Pay the balance of $420.50 now", "Talk to a person",
                                        "[option 2]", "[affirm]"]
    assert [m.choice_value for m in stored] == ["option:0", "intent:request_agent",
                                                "option:1", "intent:affirm"]


async def own(container: Container, chat: str, ownership: str) -> None:
    async with container.sessions.begin() as session:
        await session.execute(sql_update(Conversation).where(Conversation.address == chat)
                              .values(ownership=ownership))


@pytest.mark.parametrize("ownership", ["agent", "queued"])
async def test_an_unblocked_chats_start_with_a_person_on_it_points_to_the_team(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer,
    turns: StubTurnHandler, ownership: str,
) -> None:
    _, token = await account(wired)
    await say(channel_client, wired, telegram_api, update("7201", f"/start {token}"))
    await own(wired, "7201", ownership)
    async with wired.sessions.begin() as session:
        await record_opt_out(session, ConversationKey("telegram", "7201"), "blocked_bot",
                             wired.clock.now())

    [answer] = await say(channel_client, wired, telegram_api, update("7201", "/start"))
    assert TEAM_EN in answer.lower() and BEGIN_EN not in answer and "again" in answer
    point = await contact(wired, "telegram", "7201")
    assert point is not None and point.opted_out_at is None  # opted back in all the same
    assert [m.text for m in await messages(wired, "inbound")] == ["/start", "/start"]
    [again] = await say(channel_client, wired, telegram_api, update("7201", f"/start {token}"))
    assert TEAM_EN in again.lower() and BEGIN_EN not in again  # its own link, with the person on it


async def test_a_start_with_an_agent_on_the_chat_does_not_invite_the_check(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer,
    turns: StubTurnHandler,
) -> None:
    _, token = await account(wired)
    await say(channel_client, wired, telegram_api, update("7202", f"/start {token}"))
    await own(wired, "7202", "agent")
    [answer] = await say(channel_client, wired, telegram_api, update("7202", "/start"))
    assert TEAM_EN in answer.lower() and BEGIN_EN not in answer


async def test_a_chat_reopening_its_own_used_link_is_told_it_is_connected(
    channel_client: httpx.AsyncClient, wired: Container, telegram_api: FakeServer,
    turns: StubTurnHandler,
) -> None:
    _, token = await account(wired)
    await say(channel_client, wired, telegram_api, update("7203", f"/start {token}"))
    [answer] = await say(channel_client, wired, telegram_api, update("7203", f"/start {token}"))
    assert "already connected" in answer and EXPIRED_EN not in answer
    assert "$" not in answer and "420" not in answer  # nothing new disclosed
    [other] = await say(channel_client, wired, telegram_api, update("7204", f"/start {token}"))
    assert EXPIRED_EN in other  # another chat's reuse is still refused
    assert await contact(wired, "telegram", "7204") is None
