"""The transcript's live log in a real browser: a line whose intent or delivery status arrives
after it was shown is not added to the log again (a screen reader would read it out twice)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend.console import users
from backend.console_wiring import install_console
from backend.container import Container
from backend.db.models import Conversation, Message
from backend.db.models.enums import DeliveryStatus, Direction, Role
from backend.services.demo import demo_rows
from backend.services.imports.writer import upsert_accounts
from backend.services.inbox import store_inbound
from backend.settings import Settings
from bot.clock import SettableClock
from bot.messages import ConversationKey, InboundMessage
from tests.console.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DAYTIME,
    ServedApp,
    free_port,
    require_chromium,
)

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "lee@example.com", "correct horse battery staple"

# Every element added under the transcript, and the text it brought (what the log reads out).
WATCH_THE_LOG = """() => {
  window.logged = [];
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      change.addedNodes.forEach(function (node) {
        if (node.nodeType === 1) { window.logged.push(node.textContent); }
      });
    });
  }).observe(document.getElementById("transcript"), { childList: true, subtree: true });
}"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedApp]:
    """The console over a temporary SQLite file on a free loopback port."""
    require_chromium()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        parley_env="test",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 's24.db'}",
        redis_url=None,
        nlu_model_dir=tmp_path / "models",
    )
    app = ServedApp(settings, SettableClock(DAYTIME), free_port(), extensions=(install_console,))
    app.start()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
def conversation(served: ServedApp) -> int:
    """An SMS conversation the logged-in agent has claimed."""
    return served.call(_claimed_conversation(served.container))


@pytest.fixture
def page(served: ServedApp, conversation: int) -> Iterator[Any]:
    """Chromium on the claimed conversation, live updates on, the transcript watched."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.set_default_timeout(15_000)
            page.goto(f"{served.url}/console/login")
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{served.url}/console/queue")
            page.goto(f"{served.url}/console/conversations/{conversation}")
            expect(page.locator("body")).to_have_attribute("data-live-ready", "1")
            page.evaluate(WATCH_THE_LOG)
            yield page
        finally:
            browser.close()


async def _claimed_conversation(container: Container) -> int:
    now = container.clock.now()
    row = demo_rows(1, now.date())[0]
    async with container.sessions.begin() as session:
        agent = await users.create_agent(
            session, email=EMAIL, name="Lee Park", role=Role.AGENT, password=PASSWORD, now=now
        )
        await upsert_accounts(session, [row], now)
        cid = await _store(session, row.phone or "", "I want to complain", "SMs24-0", now)
    handoff = container.services["handoff"]
    async with container.sessions.begin() as session:
        await handoff.open_handoff(session, cid, "complaint", now=now)
    async with container.sessions.begin() as session:
        await handoff.claim(session, cid, agent_id=agent.id, now=now)
    return cid


async def _store(session: AsyncSession, address: str, text: str, sid: str, now: datetime) -> int:
    inbound = InboundMessage(ConversationKey("sms", address), text, sid, now)
    return (await store_inbound(session, inbound, now=now)).conversation_id


async def _debtor_writes(container: Container, conversation_id: int, text: str) -> int:
    """The inbox stores the debtor's message and commits (the console is told at once)."""
    now = container.clock.now()
    async with container.sessions.begin() as session:
        found = await session.get(Conversation, conversation_id)
        assert found is not None
        key = ConversationKey(found.channel, found.address)
        inbound = InboundMessage(key, text, "SMs24-1", now)
        return (await store_inbound(session, inbound, now=now)).message_id


async def _turn_reads(container: Container, message_id: int) -> None:
    """The turn, in its own transaction later, records what the NLU understood."""
    async with container.sessions.begin() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        message.intent, message.confidence = "complaint", 0.92
        message.processed_at = container.clock.now()


async def _bot_queues(container: Container, conversation_id: int, text: str) -> int:
    async with container.sessions.begin() as session:
        message = Message(
            conversation_id=conversation_id,
            direction=Direction.OUTBOUND,
            channel="sms",
            sender="bot",
            text=text,
            delivery_status=DeliveryStatus.QUEUED,
            created_at=container.clock.now(),
        )
        session.add(message)
        await session.flush()
        return message.id


async def _provider_delivers(container: Container, message_id: int) -> None:
    async with container.sessions.begin() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        message.delivery_status = DeliveryStatus.DELIVERED


def _read_out(page: Any, text: str) -> int:
    """How many times `text` entered the live log since the page started watching it."""
    return int(page.evaluate("(t) => window.logged.filter((s) => s.includes(t)).length", text))


def test_a_debtor_message_enters_the_log_once_when_its_intent_arrives_later(
    served: ServedApp, conversation: int, page: Any
) -> None:
    from playwright.sync_api import expect

    text = "I already paid this last week"
    message_id = served.call(_debtor_writes(served.container, conversation, text))
    line = page.locator(f"#m{message_id}")
    expect(line.locator(".intent")).to_have_text("no intent")

    served.call(_turn_reads(served.container, message_id))

    expect(line.locator(".intent")).to_have_text("complaint")
    expect(line.locator(".confidence")).to_have_text("92%")
    assert page.locator("#transcript .line", has_text=text).count() == 1
    assert _read_out(page, text) == 1


def test_a_delivery_receipt_changes_the_status_without_adding_the_reply_again(
    served: ServedApp, conversation: int, page: Any
) -> None:
    from playwright.sync_api import expect

    text = "Thanks, an agent is looking at this now."
    message_id = served.call(_bot_queues(served.container, conversation, text))
    line = page.locator(f"#m{message_id}")
    expect(line.locator(".status")).to_have_text("queued")

    served.call(_provider_delivers(served.container, message_id))

    expect(line.locator(".status")).to_have_text("delivered")
    assert _read_out(page, text) == 1
