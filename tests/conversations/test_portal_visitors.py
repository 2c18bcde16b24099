"""The portal after the security review: verification is the browser's, identity answers are
never shown back, and every portal response carries the security headers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import Response
from sqlalchemy import func, select

from backend.db.models import AuditEvent
from backend.settings import Settings
from tests.conversations.test_portal_e2e import ACCOUNT, _say, portal  # noqa: F401 (fixture)

PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@asynccontextmanager
async def _browser(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser on the same app: no cookies of the first one."""
    transport = client._transport  # the app's ASGI transport
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        yield other


async def _account(client: httpx.AsyncClient, auth: dict, **overrides: Any) -> tuple[str, dict]:
    created = (
        await client.post("/api/accounts", json={**ACCOUNT, **overrides}, headers=auth)
    ).json()
    return "/p/" + created["portal_url"].split("/p/")[1], created


def _new_link(client: httpx.AsyncClient, account_id: int) -> str:
    """A fresh link for the account, as `parley portal-link` prints one."""
    links = client._transport.app.state.container.services["portal_links"]  # type: ignore[attr-defined]
    return f"/p/{links.token_for(account_id)}"


async def test_a_new_browser_with_a_new_link_starts_unverified(portal) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, auth = portal
    path, created = await _account(client, auth)
    for text in ("how much do I owe?", "03/14/1985", "10001"):
        await _say(client, path, text)
    assert "Balance: $1,200.00" in (await client.get(path)).text

    async with _browser(client) as other:
        link = _new_link(client, created["id"])
        page = await other.get(link, headers=PAGE)
        assert page.status_code == 200
        for secret in (
            "Balance",
            "1,200",
            "Acme",
            "/pay/",
            "how much do I owe",
            "automated assistant",
            "ZIP code",
            "03/14/1985",
            "10001",
        ):
            assert secret not in page.text, secret
        assert "Confirm your identity in the chat" in page.text
        # Chatting there is an unverified chat of its own: the identity question, no debt.
        replies = await _say(other, link, "how much do I owe?")
        assert "date of birth" in replies[0]["text"]
        assert not any("1,200" in r["text"] or "Acme" in r["text"] for r in replies)
        assert "Balance" not in (await other.get(link)).text

    # The browser that verified keeps its chat and its account.
    assert "Balance: $1,200.00" in (await client.get(path)).text
    options = await _say(client, path, "can I get a payment plan")
    assert options[0]["choices"]
    # Staff see both chats on the account.
    detail = (await client.get(f"/api/accounts/{created['id']}", headers=auth)).json()
    assert [c["channel"] for c in detail["conversations"]] == ["web", "web"]


async def test_the_visitor_cookie_is_httponly_lax_and_scoped_to_the_portal(portal) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, auth = portal
    path, _ = await _account(client, auth)
    async with _browser(client) as other:
        first = await other.get(path, headers=PAGE)
        cookie = first.headers["set-cookie"]
        assert cookie.startswith("parley_portal=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/p" in cookie
        assert "Secure" not in cookie  # served over plain http in this test
        again = await other.get(path, headers=PAGE)
        assert "set-cookie" not in again.headers  # the same browser keeps its cookie
    # A cookie we never issued is not a visitor: a new one is issued.
    async with _browser(client) as forged:
        forged.cookies.set("parley_portal", "guess", path="/p")
        assert "parley_portal=" in (await forged.get(path, headers=PAGE)).headers["set-cookie"]


@pytest.mark.parametrize(
    "update", [{"public_base_url": "https://pay.example.com"}, {"parley_env": "production"}]
)
def test_the_visitor_cookie_is_secure_over_https_and_in_production(
    settings: Settings, update: dict[str, str]
) -> None:
    from backend.api.routes.portal import Visitor, remember

    container = SimpleNamespace(settings=settings.model_copy(update=update))
    response = remember(Response(), Visitor("v" * 43, True), container)  # type: ignore[arg-type]
    assert "Secure" in response.headers["set-cookie"]


async def test_fresh_browsers_draw_on_the_accounts_identity_attempts(portal) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, auth = portal
    path, _ = await _account(client, auth)
    for attempt in range(2):  # each guess from a browser of its own
        async with _browser(client) as guesser:
            await _say(guesser, path, "how much do I owe?")
            reply = await _say(guesser, path, "01/01/1970")
            if attempt < 1:
                assert "date of birth" in reply[0]["text"].lower()
    assert "couldn't confirm your identity" in reply[0]["text"]
    async with _browser(client) as guesser:  # locked: even the right answers open nothing
        replies = [
            r
            for text in ("how much do I owe?", "03/14/1985", "10001")
            for r in await _say(guesser, path, text)
        ]
        assert all("couldn't confirm your identity" in r["text"] for r in replies), replies
        assert "Balance" not in (await guesser.get(path)).text


async def test_browsers_guessing_at_once_share_the_same_attempts(portal) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, auth = portal
    path, _ = await _account(client, auth)
    async with AsyncExitStack() as stack:
        guessers = [await stack.enter_async_context(_browser(client)) for _ in range(5)]
        for guesser in guessers:
            await _say(guesser, path, "how much do I owe?")
        await asyncio.gather(*(_say(g, path, "01/01/1970") for g in guessers))
    container = client._transport.app.state.container  # type: ignore[attr-defined]
    async with container.sessions() as session:
        failed = await session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "identity.failed")
        )
    assert failed == 2  # the policy's attempts, not two per browser


async def test_a_stop_in_one_browser_holds_in_the_next(portal) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, auth = portal
    path, _ = await _account(client, auth)
    assert "unsubscribed" in (await _say(client, path, "STOP"))[0]["text"]
    async with _browser(client) as other:
        assert await _say(other, path, "hello") == []


async def test_the_identity_answers_are_never_shown_back(portal) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, auth = portal
    path, _ = await _account(client, auth, date_of_birth="1956-12-11")
    await _say(client, path, "hi")
    await _say(client, path, "12/11/1956")
    page = (await client.get(path)).text  # unverified: the ZIP code is still to come
    assert "Balance" not in page and "12/11/1956" not in page
    assert "(identity answer hidden)" in page and "hi" in page

    await _say(client, path, "my zip is 10009")  # a wrong answer is an answer all the same
    page = (await client.get(path)).text
    assert "10009" not in page and page.count("(identity answer hidden)") == 2
    await _say(client, path, "12/11/1956")
    await _say(client, path, "10001")
    await _say(client, path, "12/11/1956")  # sent again once verified
    page = (await client.get(path)).text
    assert "Balance: $1,200.00" in page
    for answer in ("12/11/1956", "10001", "10009"):
        assert answer not in page, answer


async def test_in_spanish_the_hidden_answer_says_so_in_spanish(portal) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, auth = portal
    # Not the question's own example date (14/03/1985).
    path, _ = await _account(client, auth, preferred_language="es", date_of_birth="1979-07-21")
    await _say(client, path, "hola, cuánto debo?")
    await _say(client, path, "21/07/1979")
    page = (await client.get(path)).text
    assert "21/07/1979" not in page and "(respuesta de identidad oculta)" in page


def _assert_secured(response: httpx.Response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in policy  # no external source


async def test_every_portal_response_carries_the_security_headers(portal) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, auth = portal
    path, _ = await _account(client, auth)
    responses = [
        await client.post(f"{path}/messages", json={"text": "hi"}),
        await client.get(path, headers=PAGE),
        await client.post(f"{path}/chat", data={"text": "hello"}),  # the redirect back
        await client.get("/p/static/portal.css"),
        await client.get("/p/forged", headers=PAGE),  # the invalid link page
        await client.get("/p/forged", headers={"Accept": "application/json"}),
        await client.post("/p/forged/messages", json={"text": "hi"}),  # HTTPException
        await client.post(f"{path}/messages", json={"text": ""}),  # fails validation
    ]
    assert [r.status_code for r in responses] == [200, 200, 303, 200, 404, 404, 404, 422]
    for response in responses:
        _assert_secured(response)
    page, stylesheet = responses[1], responses[3]
    # The page's own style is a file of ours: the policy allows no inline style.
    assert "<style" not in page.text and 'href="/p/static/portal.css"' in page.text
    assert stylesheet.headers["content-type"].startswith("text/css")
    assert ".msg" in stylesheet.text
