"""The console in a real browser over the whole app: a real SMS turn escalates, an agent claims,
replies through the fake Twilio, sees the debtor live, hands back, and the bot answers again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.console import users
from backend.container import Container
from backend.db.models import Conversation, Message
from backend.db.models.enums import Role
from backend.services.demo import demo_rows
from backend.services.imports.writer import upsert_accounts
from backend.services.inbox import store_inbound
from backend.settings import Settings
from bot.clock import SettableClock
from bot.messages import ConversationKey, InboundMessage
from tests.channels.helpers import payload, twilio_post
from tests.console.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DAYTIME,
    SCREENSHOTS,
    ServedApp,
    free_port,
    require_chromium,
)
from tests.fakes.server import FakeServer
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, fake_twilio

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "sam@example.com", "correct horse battery staple"


@pytest.fixture
def twilio_api() -> Iterator[FakeServer]:
    """The fake Twilio REST API the real SDK sends to."""
    server = fake_twilio()
    yield server
    server.stop()


@pytest.fixture
def served(tmp_path: Path, trained_model_dir: Path, twilio_api: FakeServer
           ) -> Iterator[ServedApp]:
    """The whole of Parley over a temporary SQLite file, on a free loopback port."""
    require_chromium()
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        parley_env="test", database_url=f"sqlite+aiosqlite:///{tmp_path / 'browser.db'}",
        redis_url=None, nlu_model_dir=trained_model_dir,
        public_base_url=f"http://127.0.0.1:{port}",
        twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
        twilio_api_url=twilio_api.base, twilio_sms_from="+12125550100",
    )
    served = ServedApp(settings, SettableClock(DAYTIME), port)
    served.start()
    try:
        yield served
    finally:
        served.stop()


def _texts(served: ServedApp, address: str, body: str, sid: str) -> None:
    """The debtor sends an SMS: a signed Twilio webhook to the running app, turn included."""
    form = payload("twilio_sms_inbound.json")
    form.update({"Body": body, "From": address, "MessageSid": sid, "SmsSid": sid,
                 "SmsMessageSid": sid})
    request = twilio_post("/webhooks/twilio/sms", form, base=served.url)
    response = httpx.post(served.url + request["url"], content=request["content"],
                          headers=request["headers"])
    assert response.status_code == 200, response.text
    served.call(served.container.services["dispatcher"].idle())


def _sent_to(twilio_api: FakeServer, address: str) -> list[str]:
    return [c.form["Body"] for c in twilio_api.calls("/Messages.json") if c.form["To"] == address]


async def _conversation_of(container: Container, address: str) -> int:
    async with container.sessions() as session:
        cid = await session.scalar(select(Conversation.id).where(Conversation.address == address))
    assert cid is not None
    return int(cid)


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
    """An agent, three debtors; two already wait in the legal and hardship queues."""
    now = container.clock.now()
    rows = demo_rows(3, now.date())
    async with container.sessions.begin() as session:
        await users.create_agent(session, email=EMAIL, name="Sam Rivera", role=Role.AGENT,
                                 password=PASSWORD, now=now)
        await upsert_accounts(session, rows, now)
    handoff = container.services["handoff"]
    script = (
        (rows[1], "attorney", 45, "my lawyer handles this now", "attorney_represented", 0.93),
        (rows[2], "hardship", 20, "I lost my job and can't pay", "hardship", 0.9),
    )
    for n, (row, reason, minutes, text, intent, confidence) in enumerate(script):
        cid = await _debtor_says(container, row.phone or "", text, f"SMB{n}", intent,
                                 confidence, timedelta(minutes=minutes + 1))
        async with container.sessions.begin() as session:
            await handoff.open_handoff(session, cid, reason,
                                       now=now - timedelta(minutes=minutes))
    return {"address": rows[0].phone, "name": rows[0].debtor_name}


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


def test_an_agent_takes_over_an_sms_escalation_and_hands_it_back_to_the_bot(
    served: ServedApp, twilio_api: FakeServer,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    seeded = served.call(_seed(served.container))
    address = seeded["address"]
    _texts(served, address, "this is not my debt, I want to talk to a person", "SMe2e1")
    escalated = served.call(_conversation_of(served.container, address))
    assert served.call(_ownership(served.container, escalated)) == "queued"
    acknowledged = _sent_to(twilio_api, address)
    assert len(acknowledged) == 1, "one acknowledgement at handoff, then the bot is quiet"

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
            row = page.locator(f'tr[data-conversation="{escalated}"]')
            expect(row).to_contain_text(seeded["name"])
            expect(page.locator("tr.breached")).to_have_count(1)  # legal: 45 min > 30 min
            expect(page.locator("body")).to_have_attribute("data-live-ready", "1")
            page.screenshot(path=str(SCREENSHOTS / "console-queue.png"), full_page=True)

            # A conversation entering the queue notifies the agent without a reload.
            served.call(_open_another(served.container))
            expect(page.locator(".toast")).to_contain_text("New conversation in complaints")
            expect(page.locator("#waiting-count")).to_have_text("4")

            row.get_by_role("button", name="Claim").click()
            expect(page.locator(".notice-ok")).to_contain_text("You own this conversation now")
            expect(page.locator("#ownership")).to_contain_text("with Sam Rivera")
            expect(page.locator(".line.inbound").first).to_contain_text("not my debt")

            page.locator("#canned").select_option(label="Dispute received")
            expect(page.locator("#reply-text")).to_have_value(
                "We have received your dispute. Everything is paused while we look into it; "
                "we will send you the verification.")
            # Nothing about the debt: the person is not verified (the gate reads the words, so
            # "I have paused collection" would be held whatever the box says).
            reply = "Hi, this is Sam from the team. I am looking into this and will write here."
            page.locator("#reply-text").fill(reply)
            page.get_by_label("Mentions the debt").uncheck()
            page.get_by_role("button", name="Send", exact=True).click()
            expect(page.locator(".notice-ok")).to_contain_text("Reply sent.")
            # Through the real SDK, with the opt-out line a bot reply would carry too.
            stop_line = "Reply STOP to stop messages to this number."
            assert _sent_to(twilio_api, address)[1:] == [f"{reply}\n{stop_line}"]

            expect(page.locator("body")).to_have_attribute("data-live-ready", "1")
            page.evaluate("window.__sameDocument = true")
            _texts(served, address, "ok thanks, I can send proof of payment", "SMe2e2")
            live = page.locator("#transcript .line.inbound").last
            expect(live).to_contain_text("ok thanks, I can send proof of payment")
            expect(live.locator(".intent")).not_to_have_text("no intent")  # read, not answered
            assert page.evaluate("window.__sameDocument") is True  # appeared without a reload
            assert len(_sent_to(twilio_api, address)) == 2, "the bot stays quiet for the agent"
            page.screenshot(path=str(SCREENSHOTS / "console-conversation.png"), full_page=True)

            page.get_by_label("What was agreed").fill("Debtor will send proof of payment; "
                                                      "bot may continue.")
            page.get_by_role("button", name="Return to bot").click()
            expect(page.locator(".notice-ok")).to_contain_text("Conversation returned to the bot.")
            assert served.call(_ownership(served.container, escalated)) == "bot"

            _texts(served, address, "how much do I owe?", "SMe2e3")
            answered = _sent_to(twilio_api, address)[2:]
            assert answered, "the bot answers the next message"
            assert not any("$" in text for text in answered)  # identity before disclosure

            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(f"{served.url}/console/queue")
            expect(page.locator("h2").first).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= 390, "the queue must fit a phone's width"
        finally:
            browser.close()
