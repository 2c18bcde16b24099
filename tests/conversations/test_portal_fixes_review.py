"""The portal after review: nothing to pay, a dead link, and a person's messages as a person's."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Conversation, Message
from bot.clock import SettableClock
from tests.conversations.test_portal_e2e import ACCOUNT, _say, portal  # noqa: F401 (fixture)

PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
VERIFY = {"en": ("how much do I owe?", "03/14/1985", "10001"),
          "es": ("hola, cuánto debo?", "14/03/1985", "10001")}


async def _verified(client: httpx.AsyncClient, auth: dict, lang: str = "en") -> tuple[str, dict]:
    """A new account's portal path, the debtor verified in its chat in `lang`; the account."""
    created = (await client.post("/api/accounts", json={**ACCOUNT, "preferred_language": lang},
                                 headers=auth)).json()
    path = "/p/" + created["portal_url"].split("/p/")[1]
    for text in VERIFY[lang]:
        await _say(client, path, text)
    return path, created


async def test_a_paid_account_has_no_pay_button(portal) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, auth = portal
    path, created = await _verified(client, auth)
    owing = _balance_section((await client.get(path)).text)
    assert "Pay now" in owing and "/pay/" in owing

    paid = await client.post(f"/api/accounts/{created['id']}/payments", headers=auth,
                             json={"amount": "1200.00", "reference": "INV-ALL"})
    assert paid.status_code == 201
    page = (await client.get(path)).text
    assert "/pay/" not in page
    balance = _balance_section(page)
    assert "$0.00" in balance and "Nothing is due" in balance and "Pay now" not in balance


def _balance_section(page: str) -> str:
    """The page's balance section (the chat below may still offer the bot's own choices)."""
    return page.split('id="balance-h"')[1].split("</section>")[0]


@pytest.mark.parametrize("language, says, not_says", [
    ("es-MX,es;q=0.9,en;q=0.5", "ha caducado", "has expired"),
    ("en-US,en;q=0.9", "has expired", "ha caducado"),
])
async def test_a_forged_link_is_a_page_in_the_readers_language(  # type: ignore[no-untyped-def]
    portal, language: str, says: str, not_says: str  # noqa: F811
) -> None:
    client, _ = portal
    for response in (await client.get("/p/garbage", headers={**PAGE, "Accept-Language": language}),
                     await client.post("/p/garbage/chat", data={"text": "hi"},
                                       headers={**PAGE, "Accept-Language": language})):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert says in response.text and not_says not in response.text
        assert "WhatsApp" in response.text  # how to get a new link: reply to our message
        assert "<script" not in response.text and "http" not in response.text.split("<main>")[0] \
            .replace('charset="utf-8"', "")


async def test_an_expired_link_says_so_and_json_clients_keep_json(  # type: ignore[no-untyped-def]
    portal, clock: SettableClock  # noqa: F811
) -> None:
    client, auth = portal
    created = (await client.post("/api/accounts", json=ACCOUNT, headers=auth)).json()
    path = "/p/" + created["portal_url"].split("/p/")[1]
    assert (await client.get(path, headers=PAGE)).status_code == 200
    clock.advance(timedelta(days=31))
    expired = await client.get(path, headers={**PAGE, "Accept-Language": "es"})
    assert expired.status_code == 404 and "responda al mensaje" in expired.text
    assert '<html lang="es"' in expired.text
    api = await client.get(path, headers={"Accept": "application/json"})
    assert api.status_code == 404
    assert api.json() == {"detail": "this link is invalid or has expired"}
    chat = await client.post(f"{path}/messages", json={"text": "hi"})
    assert chat.status_code == 404 and "expired" in chat.json()["detail"]


async def _agent_writes(client: httpx.AsyncClient, account_id: int, text: str) -> None:
    """An agent's reply in the portal chat, stored as the console stores one (`agent:<id>`).

    In the one portal conversation of the account: that of the one browser that chatted.
    """
    container: Container = client._transport.app.state.container  # type: ignore[attr-defined]
    async with container.sessions.begin() as session:
        conversation = await session.scalar(select(Conversation).where(
            Conversation.channel == "web", Conversation.account_id == account_id))
        assert conversation is not None
        session.add(Message(conversation_id=conversation.id, direction="outbound",
                            channel="web", sender="agent:7", text=text,
                            delivery_status="sent", created_at=container.clock.now()))


@pytest.mark.parametrize("preferred, label", [("en", "Agent (a person)"),
                                              ("es", "Agente (una persona)")])
async def test_an_agents_message_is_labelled_as_a_persons(  # type: ignore[no-untyped-def]
    portal, preferred: str, label: str  # noqa: F811
) -> None:
    client, auth = portal
    path, created = await _verified(client, auth, preferred)
    await _agent_writes(client, created["id"], "Hi Jane, this is Sam from Acme Bank.")
    page = (await client.get(path)).text
    agent = next(line for line in page.splitlines() if "this is Sam" in line)
    assert f"{label}:" in agent and 'class="msg out agent"' in agent
    assert "Parley" not in agent and "agent:7" not in page and "@" not in agent
    bot = next(line for line in page.splitlines() if "Parley" in line and "msg out" in line)
    assert "Parley: " in bot and "agent" not in bot


def test_the_readers_language_follows_accept_language_weights() -> None:
    from backend.api.routes.portal import accepted_language

    assert accepted_language("es-MX,es;q=0.9,en;q=0.8") == "es"
    assert accepted_language("fr-FR, en;q=0.5, es;q=0.7") == "es"
    assert accepted_language("es;q=0, en") == "en"
    assert accepted_language("de") == accepted_language("") == "en"
