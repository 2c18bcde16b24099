"""Console accessibility in a real browser: focus survives live updates and redirects, canned
replies never replace a typed draft, toasts stay until dismissed, and pages reflow on phones."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from backend.console import users
from backend.console_wiring import install_console
from backend.container import Container
from backend.db.models.enums import Role
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

EMAIL, PASSWORD = "ana@example.com", "correct horse battery staple"
WEB_ADDRESS = "web-visitor-" + "7f3a9c2e" * 8  # one unbreakable word, as web-chat ids are


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedApp]:
    """The console over a temporary SQLite file on a free loopback port."""
    require_chromium()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        parley_env="test",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'a2.db'}",
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
def page(served: ServedApp) -> Iterator[Any]:
    """A Chromium page logged in as an agent."""
    from playwright.sync_api import sync_playwright

    served.call(_agent(served.container))
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
            yield page
        finally:
            browser.close()


async def _agent(container: Container) -> None:
    async with container.sessions.begin() as session:
        await users.create_agent(
            session,
            email=EMAIL,
            name="Ana Ruiz",
            role=Role.AGENT,
            password=PASSWORD,
            now=container.clock.now(),
        )


async def _waiting(
    container: Container, index: int, channel: str = "sms", address: str | None = None
) -> int:
    """A debtor's message handed off to the complaints queue; returns the conversation id."""
    now = container.clock.now()
    row = demo_rows(index + 1, now.date())[index]
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [row], now)
        stored = await store_inbound(
            session,
            InboundMessage(
                ConversationKey(channel, address or row.phone or ""),
                "I want to complain",
                f"SMa2{index}",
                now - timedelta(minutes=5),
            ),
            now=now - timedelta(minutes=5),
        )
    async with container.sessions.begin() as session:
        await container.services["handoff"].open_handoff(
            session, stored.conversation_id, "complaint", now=now
        )
    return stored.conversation_id


async def _claimed_by_agent(container: Container, index: int) -> int:
    cid = await _waiting(container, index)
    async with container.sessions.begin() as session:
        agent = await users.agent_by_email(session, EMAIL)
        await container.services["handoff"].claim(
            session, cid, agent_id=agent.id, now=container.clock.now()
        )
    return cid


def _focused(page: Any) -> dict[str, str]:
    return dict(
        page.evaluate(
            "(() => { const a = document.activeElement; const row = a.closest('tr');"
            " return {tag: a.tagName, id: a.id, row: row ? row.dataset.conversation : ''}; })()"
        )
    )


def _live(page: Any, served: ServedApp, path: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{served.url}{path}")
    expect(page.locator("body")).to_have_attribute("data-live-ready", "1")


def test_a_live_board_refresh_keeps_focus_on_the_claim_button(served: ServedApp, page: Any) -> None:
    from playwright.sync_api import expect

    first = served.call(_waiting(served.container, 0))
    served.call(_waiting(served.container, 1))
    _live(page, served, "/console/queue")
    page.locator(f'tr[data-conversation="{first}"] button').focus()
    served.call(_waiting(served.container, 2))
    expect(page.locator("#waiting-count")).to_have_text("3")
    page.wait_for_timeout(300)  # the refresh and any focus fix-up have run
    expect(page.locator(f"#claim-{first}")).to_be_focused()
    assert _focused(page) == {"tag": "BUTTON", "id": f"claim-{first}", "row": str(first)}
    expect(page.locator("#live-text")).to_have_text("Live updates on")


def test_a_new_conversation_toast_stays_until_dismissed(served: ServedApp, page: Any) -> None:
    from playwright.sync_api import expect

    page.clock.install()
    _live(page, served, "/console/queue")
    served.call(_waiting(served.container, 0))
    toast = page.locator(".toast")
    expect(toast).to_contain_text("New conversation in complaints")
    page.clock.run_for(60_000)
    expect(toast).to_have_count(1)
    expect(toast.get_by_role("link", name="Open the conversation")).to_be_visible()
    toast.get_by_role("button", name="Dismiss this notification").click()
    expect(toast).to_have_count(0)


def test_browsing_canned_replies_keeps_the_typed_draft_and_the_focus(
    served: ServedApp, page: Any
) -> None:
    from playwright.sync_api import expect

    cid = served.call(_claimed_by_agent(served.container, 0))
    page.goto(f"{served.url}/console/conversations/{cid}")
    draft = page.locator("#reply-text")
    draft.fill("Thanks for waiting.")
    page.locator("#canned").focus()
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(200)
    expect(draft).to_have_value("Thanks for waiting.")
    assert _focused(page)["id"] == "canned"
    chosen = page.locator("#canned").input_value()
    assert chosen != "", "the select keeps the reply the agent moved to"

    page.get_by_role("button", name="Insert").click()
    expect(draft).to_have_value("Thanks for waiting." + chosen)
    assert _focused(page)["id"] == "reply-text"


def test_an_empty_canned_draft_previews_without_moving_focus(served: ServedApp, page: Any) -> None:
    from playwright.sync_api import expect

    cid = served.call(_claimed_by_agent(served.container, 0))
    page.goto(f"{served.url}/console/conversations/{cid}")
    page.locator("#canned").focus()
    page.keyboard.press("ArrowDown")
    first = page.locator("#canned").input_value()
    expect(page.locator("#reply-text")).to_have_value(first)
    page.keyboard.press("ArrowDown")
    second = page.locator("#canned").input_value()
    assert second != first
    expect(page.locator("#reply-text")).to_have_value(second)  # still the untouched preview
    assert _focused(page)["id"] == "canned"


def test_focus_lands_on_the_notice_or_the_field_it_is_about_after_a_redirect(
    served: ServedApp, page: Any
) -> None:
    from playwright.sync_api import expect

    cid = served.call(_waiting(served.container, 0))
    page.goto(f"{served.url}/console/queue")
    page.locator(f'tr[data-conversation="{cid}"]').get_by_role("button", name="Claim").click()
    expect(page.locator(".notice-ok")).to_contain_text("You own this conversation now")
    expect(page.locator("#notice")).to_be_focused()  # autofocus lands just after the load

    page.locator("#reply-text").fill("   ")  # passes `required`; the server finds it empty
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".notice-error")).to_have_text("Write a message first.")
    expect(page.locator("#reply-text")).to_be_focused()
    expect(page.locator("#reply-text")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#reply-text")).to_have_accessible_description("Write a message first.")


def test_the_queue_and_a_web_chat_conversation_fit_a_phone(served: ServedApp, page: Any) -> None:
    cid = served.call(_waiting(served.container, 0, "web", WEB_ADDRESS))
    page.set_viewport_size({"width": 320, "height": 700})
    page.goto(f"{served.url}/console/queue")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 375, "height": 700})
    page.goto(f"{served.url}/console/conversations/{cid}")
    assert WEB_ADDRESS in page.locator("p.sub").first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
