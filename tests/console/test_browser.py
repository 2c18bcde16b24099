"""The console in a real browser: log in, claim, reply, see the debtor live, hand back."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn

from backend.api.app import create_app
from backend.console import users
from backend.console_wiring import install_console
from backend.container import Container
from backend.db.models import Conversation, Message
from backend.db.models.enums import Role
from backend.services.demo import demo_rows
from backend.services.imports.writer import upsert_accounts
from backend.services.inbox import store_inbound
from backend.services.payments.links import PaymentLinks
from backend.services.policy.loader import load_default
from backend.services.policy.store import PolicyStore
from backend.settings import Settings
from bot.clock import SettableClock
from bot.messages import ConversationKey, InboundMessage
from tests.console.fakes import RecordingOutbox

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
EMAIL, PASSWORD = "sam@example.com", "correct horse battery staple"
T = TypeVar("T")


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is required under CI=true (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} not installed: browser tests skipped")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServedApp:
    """The app under uvicorn in a background thread with its own event loop."""

    def __init__(self, settings: Settings, clock: SettableClock) -> None:
        self.app = create_app(settings, clock=clock, extensions=(install_console,))
        self.port = _free_port()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def container(self) -> Container:
        container: Container = self.app.state.container
        return container

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())

    def start(self) -> None:
        self.thread.start()
        for _ in range(600):
            if self.server.started:
                return
            self.thread.join(0.05)
        raise RuntimeError("the app did not start")

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the server's loop (so its events reach the server's bus)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedApp]:
    """Parley with the console over a temporary SQLite file, on a free loopback port."""
    _require_chromium()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        parley_env="test", database_url=f"sqlite+aiosqlite:///{tmp_path / 'browser.db'}",
        redis_url=None, nlu_model_dir=tmp_path / "models",
    )
    clock = SettableClock(datetime.now(UTC).replace(second=0, microsecond=0))
    served = ServedApp(settings, clock)
    served.start()
    services = served.container.services
    services["outbox"] = RecordingOutbox(clock)
    services["policies"] = PolicyStore(load_default(settings.policy_dir))
    services["payment_links"] = PaymentLinks(settings.secret_key, served.url, clock)
    try:
        yield served
    finally:
        served.stop()


async def _debtor_says(container: Container, address: str, text: str, sid: str,
                       intent: str | None = None, confidence: float | None = None,
                       ago: timedelta = timedelta(0)) -> int:
    when = container.clock.now() - ago
    async with container.sessions.begin() as session:
        stored = await store_inbound(session, InboundMessage(
            ConversationKey("sms", address), text, sid, when), now=when)
        message = await session.get(Message, stored.message_id)
        assert message is not None
        message.intent, message.confidence = intent, confidence
    return stored.conversation_id


async def _seed(container: Container) -> dict[str, Any]:
    """An agent, three debtors waiting in three queues; returns what the test needs."""
    now = container.clock.now()
    rows = demo_rows(3, now.date())
    async with container.sessions.begin() as session:
        await users.create_agent(session, email=EMAIL, name="Sam Rivera", role=Role.AGENT,
                                 password=PASSWORD, now=now)
        await upsert_accounts(session, rows, now)
    handoff = container.services["handoff"]
    script = (
        (rows[0], "dispute", 12, [("I never had an account with you", "dispute_debt", 0.87),
                                  ("this is not my debt, talk to a person", "request_agent",
                                   0.64)]),
        (rows[1], "attorney", 45, [("my lawyer handles this now", "attorney_represented",
                                    0.93)]),
        (rows[2], "hardship", 20, [("I lost my job and can't pay", "hardship", 0.9)]),
    )
    ids = []
    for n, (row, reason, minutes, said) in enumerate(script):
        for k, (text, intent, confidence) in enumerate(said):
            cid = await _debtor_says(container, row.phone or "", text, f"SMB{n}{k}", intent,
                                     confidence, timedelta(minutes=minutes + 1 - k))
        async with container.sessions.begin() as session:
            await handoff.open_handoff(session, cid, reason,
                                       now=now - timedelta(minutes=minutes))
        ids.append(cid)
    return {"dispute": ids[0], "address": rows[0].phone, "name": rows[0].debtor_name,
            "hardship_name": rows[2].debtor_name}


async def _ownership(container: Container, cid: int) -> str:
    async with container.sessions() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None
        return conversation.ownership


async def _open_another(container: Container) -> int:
    row = demo_rows(4, container.clock.now().date())[3]
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [row], container.clock.now())
    cid = await _debtor_says(container, row.phone or "", "I want to complain", "SMB-new",
                             "complaint", 0.95)
    async with container.sessions.begin() as session:
        await container.services["handoff"].open_handoff(session, cid, "complaint",
                                                         now=container.clock.now())
    return cid


def test_an_agent_claims_replies_sees_the_debtor_live_and_hands_back(served: ServedApp) -> None:
    from playwright.sync_api import expect, sync_playwright

    seeded = served.call(_seed(served.container))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.set_default_timeout(15_000)

            page.goto(f"{served.url}/console/queue")
            expect(page).to_have_url(f"{served.url}/console/login?next=%2Fconsole%2Fqueue")
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()

            expect(page).to_have_url(f"{served.url}/console/queue")
            row = page.locator(f'tr[data-conversation="{seeded["dispute"]}"]')
            expect(row).to_contain_text(seeded["name"])
            expect(row).to_contain_text("dispute")
            expect(page.locator("tr.breached")).to_have_count(1)  # legal: 45 min > 30 min
            page.wait_for_function("document.body.dataset.liveReady === '1'")
            page.screenshot(path=str(SCREENSHOTS / "console-queue.png"), full_page=True)

            # A conversation entering the queue notifies the agent without a reload.
            served.call(_open_another(served.container))
            expect(page.locator(".toast")).to_contain_text("New conversation in complaints")
            expect(page.locator("#waiting-count")).to_have_text("4")

            row.get_by_role("button", name="Claim").click()
            expect(page.locator(".notice-ok")).to_contain_text("You own this conversation now")
            expect(page.locator("#ownership")).to_contain_text("with Sam Rivera")
            expect(page.locator(".line.inbound").first).to_contain_text("dispute_debt")

            page.locator("#canned").select_option(label="Dispute received")
            expect(page.locator("#reply-text")).to_have_value(
                "We have received your dispute. Collection is paused while we verify the "
                "debt; we will send you the verification.")
            page.locator("#reply-text").fill("Hi, this is Sam. I have paused collection while "
                                             "we check this with the creditor.")
            page.get_by_label("Mentions the debt").uncheck()
            page.get_by_role("button", name="Send", exact=True).click()
            expect(page.locator(".notice-ok")).to_contain_text("Reply sent.")
            outbox = served.container.services["outbox"]
            assert [m.sender for m in outbox.submitted] == ["agent:1"]
            assert len(outbox.sent) == 1

            page.wait_for_function("document.body.dataset.liveReady === '1'")
            page.evaluate("window.__sameDocument = true")
            served.call(_debtor_says(served.container, seeded["address"],
                                     "ok thanks, I can send proof of payment", "SMB-live",
                                     "already_paid", 0.81))
            live = page.locator("#transcript .line.inbound").last
            expect(live).to_contain_text("ok thanks, I can send proof of payment")
            expect(live).to_contain_text("already_paid")
            assert page.evaluate("window.__sameDocument") is True  # appeared without a reload
            page.screenshot(path=str(SCREENSHOTS / "console-conversation.png"), full_page=True)

            page.get_by_label("What was agreed").fill("Debtor will send proof of payment; "
                                                      "bot may continue.")
            page.get_by_role("button", name="Return to bot").click()
            expect(page.locator(".notice-ok")).to_contain_text("Conversation returned to the bot.")
            assert served.call(_ownership(served.container, seeded["dispute"])) == "bot"

            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(f"{served.url}/console/queue")
            expect(page.locator("h2").first).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= 390, "the queue must fit a phone's width"
        finally:
            browser.close()
