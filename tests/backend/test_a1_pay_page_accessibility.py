"""The pay page after the accessibility review: errors tied to the card field, with the reason
and what to do, any entry answered by the page, its own title, and a way back to the chat."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from backend.api.app import create_app
from backend.channels_wiring import install_channels
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.services import apikeys
from backend.settings import Settings
from bot.clock import SettableClock
from tests.backend.test_api_payments import ACCOUNT

Served = tuple[Container, httpx.AsyncClient, int, str]


async def _serve(
    settings: Settings, clock: SettableClock, account: dict[str, Any]
) -> AsyncIterator[Served]:
    app = create_app(
        settings, clock=clock, migrate=False, extensions=(install_channels, install_conversations)
    )
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {raw}"},
        ) as client:
            account_id = int((await client.post("/api/accounts", json=account)).json()["id"])
            url = container.services["payment_links"].url_for(account_id, Decimal("120.00"))
            yield container, client, account_id, "/pay/" + url.split("/pay/")[1]


@pytest.fixture
async def english(settings: Settings, clock: SettableClock) -> AsyncIterator[Served]:
    async for served in _serve(settings, clock, ACCOUNT):
        yield served


@pytest.fixture
async def spanish(settings: Settings, clock: SettableClock) -> AsyncIterator[Served]:
    async for served in _serve(settings, clock, {**ACCOUNT, "preferred_language": "es"}):
        yield served


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html)
    assert found is not None
    return found.group(1)


def _card_input(html: str) -> str:
    found = re.search(r"<input id=\"card\"[^>]*>", html, re.S)
    assert found is not None, html
    return found.group(0)


@pytest.mark.parametrize(
    ("card", "says"),
    [
        ("4000 0000 0000 0002", "Payment declined: the card was not accepted"),
        ("4000 0000 0000 9995", "insufficient funds"),
        ("1234", "check the card number"),
    ],
)
async def test_a_refused_card_is_the_fields_error_with_its_reason(
    english: Served, card: str, says: str
) -> None:
    _, client, _, path = english
    answer = await client.post(path, data={"card": card})
    assert answer.status_code == 200
    assert says in answer.text
    assert '<p id="card-error" class="error">' in answer.text
    field = _card_input(answer.text)
    assert 'aria-invalid="true"' in field and 'aria-describedby="card-error"' in field
    assert "autofocus" in field  # the focus lands on the field, its error read with it
    assert _title(answer.text) == "Error: secure payment · Parley"
    assert "value=" not in field  # a card number is never written back into the page


async def test_a_card_field_without_an_error_is_not_marked_invalid(english: Served) -> None:
    _, client, _, path = english
    page = await client.get(path)
    field = _card_input(page.text)
    assert "aria-invalid" not in field and "autofocus" not in field
    assert 'maxlength="40"' in field
    assert _title(page.text) == "Secure payment · Parley"


@pytest.mark.parametrize("card", ["4" * 42, "", "4242 4242 4242 424x"])
async def test_any_entry_gets_the_page_back_with_an_error_not_json(
    english: Served, card: str
) -> None:
    container, client, _, path = english
    answer = await client.post(path, data={"card": card})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "check the card number" in answer.text
    assert 'aria-invalid="true"' in _card_input(answer.text)


async def test_every_outcome_links_back_to_the_account_and_chat(english: Served) -> None:
    container, client, account_id, path = english
    declined = await client.post(path, data={"card": "4000 0000 0000 0002"})
    paid = await client.post(path, data={"card": "4242 4242 4242 4242"})
    assert '<p id="outcome" role="status" tabindex="-1" autofocus>' in paid.text
    for page in (await client.get(path), declined, paid):
        back = re.search(r'<a href="(/p/[^"]+)">Back to your account and the chat</a>', page.text)
        assert back is not None, page.text
        portal = container.services["portal_links"]
        assert portal.account_id(back.group(1).removeprefix("/p/")) == account_id


async def test_the_spanish_page_stays_spanish(spanish: Served) -> None:
    _, client, _, path = spanish
    page = await client.get(path)
    assert _title(page.text) == "Pago seguro · Parley"
    assert "Volver a su cuenta y al chat" in page.text
    failed = await client.post(path, data={"card": "4000 0000 0000 9995"})
    assert "fondos insuficientes" in failed.text.split("<form")[0]
    assert _title(failed.text) == "Error: pago seguro · Parley"
    invalid = await client.post(path, data={"card": "1234"})
    assert "compruebe el número de tarjeta" in invalid.text


@pytest.mark.parametrize(
    ("card", "problem"),
    [
        ("4242 4242 4242 4242", None),
        ("4000-0000-0000-0002", None),
        ("4242424242424241", "invalid"),
        ("1234", "invalid"),
        ("4242 4242 4242 4242 4242", "invalid"),
        ("card", "invalid"),
    ],
)
def test_what_cannot_be_a_card_number(card: str, problem: str | None) -> None:
    from backend.api.routes.payments import card_problem  # new with the fix

    assert card_problem(card) == problem
