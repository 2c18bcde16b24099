"""A linked Telegram chat that opted out and sends `/start` again is opted back in and greeted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import AuditEvent
from backend.services.compliance.consent import record_opt_out
from backend.services.telegram_links import make_token
from backend.settings import Settings
from backend.wiring import build_parley_app
from bot.clock import SettableClock
from bot.messages import ConversationKey
from tests.channels.helpers import StubTurnHandler, contact, messages
from tests.channels.test_fixes_telegram_start import account, say, update
from tests.fakes.server import FakeServer

SUBSCRIBED_EN = "You're subscribed"
RESUMED_EN = "You'll get messages in this chat again."


@pytest.fixture
def turns(wired: Container) -> StubTurnHandler:
    handler = StubTurnHandler(wired)
    wired.services["turn_handler"] = handler
    return handler


async def opt_out(container: Container, chat: str, reason: str) -> None:
    async with container.sessions.begin() as session:
        await record_opt_out(
            session, ConversationKey("telegram", chat), reason, container.clock.now()
        )


async def opt_ins(container: Container) -> list[AuditEvent]:
    async with container.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "contact.opted_in")
                )
            ).all()
        )


@pytest.mark.parametrize("reason", ["keyword:STOP", "blocked_bot"])
async def test_a_linked_opted_out_chats_start_opts_it_in_and_greets_it(
    channel_client: httpx.AsyncClient,
    wired: Container,
    telegram_api: FakeServer,
    turns: StubTurnHandler,
    reason: str,
) -> None:
    _, token = await account(wired)
    await say(channel_client, wired, telegram_api, update("7101", f"/start {token}"))
    await opt_out(wired, "7101", reason)

    [answer] = await say(channel_client, wired, telegram_api, update("7101", "/start"))
    assert RESUMED_EN in answer and SUBSCRIBED_EN not in answer
    assert answer.count("STOP") == 1  # how to stop, said once (the channel's opt-out line)
    point = await contact(wired, "telegram", "7101")
    assert point is not None and point.opted_out_at is None  # the greeting was no lie
    [event] = await opt_ins(wired)
    assert event.data["keyword"] == "/start"  # logged as new consent (compliance.md C 50 d)
    assert turns.seen == []  # the channel answered it; no turn reads it as well
    assert all(m.processed_at is not None for m in await messages(wired, "inbound"))


async def test_a_linked_opted_out_chats_new_link_opts_it_in_and_greets_it(
    channel_client: httpx.AsyncClient,
    wired: Container,
    telegram_api: FakeServer,
    turns: StubTurnHandler,
) -> None:
    account_id, token = await account(wired)
    await say(channel_client, wired, telegram_api, update("7102", f"/start {token}"))
    await opt_out(wired, "7102", "blocked_bot")
    fresh = make_token(wired.settings.secret_key, account_id, wired.clock.now())
    [answer] = await say(channel_client, wired, telegram_api, update("7102", f"/start {fresh}"))
    assert RESUMED_EN in answer
    point = await contact(wired, "telegram", "7102")
    assert point is not None and point.opted_out_at is None


@pytest.fixture
async def parley_telegram(
    channel_settings: Settings, clock: SettableClock, trained_model_dir: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    """The whole app (`parley serve`'s) with Telegram against the fake and the trained NLU."""
    app = build_parley_app(
        channel_settings.model_copy(update={"nlu_model_dir": trained_model_dir}), clock=clock
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, app.state.container


async def test_after_stop_a_start_greets_and_the_bot_talks_again(
    parley_telegram: tuple[httpx.AsyncClient, Container],
    telegram_api: FakeServer,
) -> None:
    client, container = parley_telegram
    _, token = await account(container)
    await say(client, container, telegram_api, update("7103", f"/start {token}"))
    assert len(await say(client, container, telegram_api, update("7103", "STOP"))) == 1
    assert await say(client, container, telegram_api, update("7103", "hello")) == []

    [greeting] = await say(client, container, telegram_api, update("7103", "/start"))
    assert RESUMED_EN in greeting and SUBSCRIBED_EN not in greeting
    asked = await say(client, container, telegram_api, update("7103", "hello"))
    assert any("confirm who I'm talking to" in text for text in asked), asked
