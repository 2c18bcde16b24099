"""In Chromium with scripts off: a portal send lands the focus on its new replies, a
refused card on the card field with its error, and the focus ring stands out (3:1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.conversations.test_portal_e2e import ACCOUNT
from tests.conversations.test_portal_link_from_another_site import (  # noqa: F401 (fixture)
    CHROMIUM,
    CHROMIUM_ARGS,
    ServedApp,
    _api_key,
    served,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def _account(served: ServedApp) -> tuple[str, str]:  # noqa: F811 (not the fixture)
    """A new account's portal URL and a pay URL for part of its balance."""
    key = served.call(_api_key(served.container))
    created = httpx.post(
        served.url + "/api/accounts", json=ACCOUNT, headers={"Authorization": f"Bearer {key}"}
    )
    assert created.status_code in (200, 201), created.text
    body = created.json()
    pay = served.container.services["payment_links"].url_for(body["id"], Decimal("100.00"))
    return served.url + "/p/" + body["portal_url"].split("/p/")[1], pay


def _luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in rgb.removeprefix("rgb(").removesuffix(")").split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(one: str, other: str) -> float:
    lighter, darker = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@contextmanager
def _page() -> Iterator[Page]:
    """A Chromium page with scripts off: the pages must work, and their focus land, without."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(java_script_enabled=False)
        finally:
            browser.close()


def _focus_lands_on(page: Page, element_id: str) -> None:
    """Wait for the focus: Chromium applies autofocus and the fragment just after the load."""
    page.wait_for_function(
        f"document.activeElement && document.activeElement.id === '{element_id}'", timeout=10_000
    )


def test_a_send_lands_the_focus_on_its_replies(served: ServedApp) -> None:  # noqa: F811
    url, _ = _account(served)
    with _page() as page:
        page.goto(url)
        page.fill("#text", "how much do I owe?")
        with page.expect_navigation():
            page.click("form.chat button")
        assert page.url == url + "#new"
        _focus_lands_on(page, "new")
        focused = page.evaluate("[document.activeElement.id, document.activeElement.innerText]")
        assert focused[0] == "new" and "automated assistant" in focused[1]
        page.keyboard.press("Tab")  # the next stop is the message box, or a choice
        assert page.evaluate("document.activeElement.closest('form') !== null")


def test_the_focus_ring_stands_out_from_the_page_and_the_bubbles(
    served: ServedApp,  # noqa: F811
) -> None:
    url, _ = _account(served)
    with _page() as page:
        page.goto(url)
        page.focus("#text")
        ring = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
        for background in ("rgb(255, 255, 255)", "rgb(241, 241, 241)", "rgb(232, 240, 251)"):
            assert _contrast(ring, background) >= 3, (ring, background)


def test_a_refused_card_lands_the_focus_on_the_field_with_its_error(
    served: ServedApp,  # noqa: F811
) -> None:
    _, pay = _account(served)
    with _page() as page:
        page.goto(pay)
        page.fill("#card", "4000 0000 0000 0002")
        with page.expect_navigation():
            page.click("form button")
        _focus_lands_on(page, "card")
        card = page.evaluate("""[document.activeElement.id,
            document.activeElement.getAttribute('aria-invalid'),
            document.getElementById(document.activeElement.getAttribute('aria-describedby'))
                ?.innerText]""")
        assert card[0] == "card" and card[1] == "true" and "declined" in card[2]
        page.fill("#card", "4242 4242 4242 4242")
        with page.expect_navigation():
            page.click("form button")
        _focus_lands_on(page, "outcome")
        assert page.evaluate("document.activeElement.id") == "outcome"
        with page.expect_navigation():
            page.click("text=Back to your account and the chat")
        assert page.title() == "Your account · Parley"
