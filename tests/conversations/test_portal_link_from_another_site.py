"""A portal link followed from another site (webmail, WhatsApp Web, Telegram Web) keeps the
browser's chat and verification: the visitor cookie goes with a top-level navigation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.container import Container
from backend.services import apikeys
from backend.settings import Settings
from bot.clock import SettableClock
from tests.console.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DAYTIME,
    ServedApp,
    free_port,
    require_chromium,
)
from tests.conversations.test_portal_e2e import ACCOUNT

pytestmark = pytest.mark.browser

# Another site: a different host than the portal's 127.0.0.1, answered by the browser itself.
WEBMAIL = "http://localhost:9/inbox"


@pytest.fixture
def served(tmp_path: Path, trained_model_dir: Path) -> Iterator[ServedApp]:
    """Parley over a temporary SQLite file, on a free loopback port."""
    require_chromium()
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        parley_env="test", database_url=f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}",
        redis_url=None, nlu_model_dir=trained_model_dir,
        public_base_url=f"http://127.0.0.1:{port}",
    )
    served = ServedApp(settings, SettableClock(DAYTIME), port)
    served.start()
    try:
        yield served
    finally:
        served.stop()


async def _api_key(container: Container) -> str:
    async with container.sessions.begin() as session:
        _, raw = await apikeys.create_key(session, "test", container.clock.now())
    return raw


def _portal_url(served: ServedApp) -> str:
    key = served.call(_api_key(served.container))
    created = httpx.post(served.url + "/api/accounts", json=ACCOUNT,
                         headers={"Authorization": f"Bearer {key}"})
    assert created.status_code in (200, 201), created.text
    return served.url + "/p/" + created.json()["portal_url"].split("/p/")[1]


def test_a_verified_browser_following_the_link_from_another_site_keeps_its_chat(
        served: ServedApp) -> None:
    from playwright.sync_api import Route, sync_playwright

    url = _portal_url(served)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            for text in ("how much do I owe?", "03/14/1985", "10001"):
                answer = page.request.post(url + "/messages", data={"text": text})
                assert answer.ok, answer.text()
            page.goto(url)
            assert "Balance: $1,200.00" in page.content()

            def webmail(route: Route) -> None:
                route.fulfill(content_type="text/html",
                              body=f'<a id="link" href="{url}">Your account</a>')

            page.route(WEBMAIL, webmail)
            page.goto(WEBMAIL)
            page.click("#link")
            page.wait_for_url(url)
            content = page.content()
            assert "Balance: $1,200.00" in content
            assert "Confirm your identity in the chat" not in content
        finally:
            browser.close()
