"""The portal after the accessibility review: a send comes back to its new replies, which take
the focus; a skip link reaches the message box; each page has its own title."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conversations.test_portal_e2e import ACCOUNT, portal  # noqa: F401 (fixture)

Served = tuple[httpx.AsyncClient, dict[str, str]]
PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html)
    assert found is not None
    return found.group(1)


async def test_a_send_comes_back_to_its_replies_which_take_the_focus(portal: Served) -> None:  # noqa: F811
    client, auth = portal
    created = (await client.post("/api/accounts", json=ACCOUNT, headers=auth)).json()
    path = "/p/" + created["portal_url"].split("/p/")[1]
    sent = await client.post(f"{path}/chat", data={"text": "how much do I owe?"})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{path}#new"
    page = (await client.get(path, headers=PAGE)).text
    opening = '<div id="new" class="latest" tabindex="-1" autofocus>'
    latest = page.split(opening)[1].split("</div>")[0]
    assert "automated assistant" in latest  # the reply to this send
    assert "how much do I owe?" not in latest  # not what the debtor sent
    assert page.index('<div role="log"') < page.index('id="new"')
    assert '<a class="skip" href="#text">Reply</a>' in page
    again = await client.post(f"{path}/chat", data={"text": "03/14/1985"})
    page = (await client.get(again.headers["location"].split("#")[0], headers=PAGE)).text
    assert page.count('id="new"') == 1
    latest = page.split('id="new"')[1].split("</div>")[0]
    assert "automated assistant" not in latest  # the earlier reply is no longer new


@pytest.mark.parametrize(
    ("language", "portal_title", "invalid_title"),
    [
        ("en", "Your account · Parley", "Link invalid or expired · Parley"),
        ("es", "Su cuenta · Parley", "Enlace no válido o caducado · Parley"),
    ],
)
async def test_each_portal_page_has_its_own_title_in_its_language(
    portal: Served,  # noqa: F811
    language: str,
    portal_title: str,
    invalid_title: str,
) -> None:
    client, auth = portal
    created = (
        await client.post(
            "/api/accounts", json={**ACCOUNT, "preferred_language": language}, headers=auth
        )
    ).json()
    path = "/p/" + created["portal_url"].split("/p/")[1]
    page = await client.get(path, headers=PAGE)
    assert _title(page.text) == portal_title
    assert f'<html lang="{language}"' in page.text
    invalid = await client.get("/p/garbage", headers={**PAGE, "Accept-Language": language})
    assert invalid.status_code == 404 and _title(invalid.text) == invalid_title
    assert ("Responder" if language == "es" else ">Reply<") in page.text
