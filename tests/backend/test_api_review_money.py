"""The integration API takes money sent as a JSON number exactly, never float-rounded."""

from __future__ import annotations

from collections.abc import AsyncIterator
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

ACCOUNT = {
    "external_ref": "BIG-1", "creditor": "Acme Bank", "portfolio": "Cards",
    "debtor_name": "Jane Roe", "phone": "+12125550123", "state": "NY", "currency": "USD",
    "due_date": "2026-08-22",
}


@pytest.fixture
async def client(settings: Settings, clock: SettableClock) -> AsyncIterator[httpx.AsyncClient]:
    """A client with the accounts, payments and policy routes and an every-scope key."""
    app = create_app(settings, clock=clock, migrate=False,
                     extensions=(install_channels, install_conversations))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     headers={"Authorization": f"Bearer {raw}"}) as api:
            yield api


def _raw_json(body: dict[str, Any], **numbers: str) -> dict[str, Any]:
    """`body` as request arguments with `numbers` written into the JSON as bare numbers."""
    text = httpx.Request("POST", "/", json=body).content.decode()
    for name, number in numbers.items():
        text = text[:-1] + f', "{name}": {number}}}'
    return {"content": text, "headers": {"Content-Type": "application/json"}}


async def test_a_balance_sent_as_a_number_is_stored_exactly(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/accounts",
                                **_raw_json(ACCOUNT, balance="1234567890123456.78"))
    assert created.status_code == 201, created.text
    assert created.json()["current_balance"] == "1234567890123456.78"


async def test_a_balance_number_in_the_sixteenth_digit_is_not_written_in_exponent_form(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post("/api/accounts",
                                **_raw_json(ACCOUNT, balance="9999999999999999.99"))
    assert created.status_code == 201, created.text
    assert created.json()["current_balance"] == "9999999999999999.99"


async def test_integer_and_string_balances_still_work(client: httpx.AsyncClient) -> None:
    whole = await client.post("/api/accounts", **_raw_json(ACCOUNT, balance="300"))
    text = await client.post("/api/accounts", json={**ACCOUNT, "external_ref": "BIG-2",
                                                    "balance": "300.10"})
    assert (whole.status_code, whole.json()["current_balance"]) == (201, "300.00")
    assert (text.status_code, text.json()["current_balance"]) == (201, "300.10")


async def test_a_payment_amount_sent_as_a_number_is_posted_exactly(
    client: httpx.AsyncClient,
) -> None:
    account = (await client.post("/api/accounts", json={
        **ACCOUNT, "balance": "9999999999999999.99"})).json()
    url = f"/api/accounts/{account['id']}/payments"
    paid = await client.post(url, **_raw_json({"reference": "INV-1"},
                                              amount="1234567890123456.78"))
    assert paid.status_code == 201, paid.text
    assert paid.json()["amount"] == "1234567890123456.78"
    after = (await client.get(f"/api/accounts/{account['id']}")).json()
    assert after["current_balance"] == "8765432109876543.21"


async def test_a_policy_amount_sent_as_a_number_is_kept_exactly(
    client: httpx.AsyncClient,
) -> None:
    account = (await client.post("/api/accounts", json={**ACCOUNT, "balance": "300"})).json()
    url = f"/api/portfolios/{account['portfolio_id']}/policy"
    policy = (await client.get(url)).json()["policy"]
    policy["approval"]["max_balance"] = "MAX"
    text = httpx.Request("PUT", "/", json=policy).content.decode().replace(
        '"MAX"', "12345678901234567.89")
    replaced = await client.put(url, content=text,
                                headers={"Content-Type": "application/json"})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["policy"]["approval"]["max_balance"] == "12345678901234567.89"
