"""A payment shows both its references, paid_at has a floor, an unknown report creditor is a
422, and a read key may dry-run a strategy."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from backend.api.app import create_app
from backend.channels_wiring import install_channels
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.reports_wiring import install_reports
from backend.services import apikeys
from backend.services.payments import stripe
from backend.settings import Settings
from backend.workflow_wiring import install_workflow
from bot.clock import SettableClock

ACCOUNT = {
    "external_ref": "REF-1", "creditor": "Acme Bank", "portfolio": "Cards",
    "debtor_name": "Jane Roe", "phone": "+12125550123", "state": "NY", "currency": "USD",
    "balance": "300.00", "due_date": "2026-08-22",
}
Keys = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def keys(settings: Settings, clock: SettableClock) -> AsyncIterator[Keys]:
    """A maker of clients, each with a new key of the given scopes (every scope by default)."""
    settings = settings.model_copy(update={"stripe_webhook_secret": "whsec_test"})
    app = create_app(settings, clock=clock, migrate=False, extensions=(
        install_channels, install_conversations, install_workflow, install_reports))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        clients: list[httpx.AsyncClient] = []

        async def client(*scopes: str) -> httpx.AsyncClient:
            async with container.sessions.begin() as session:
                _, raw = await apikeys.create_key(session, "test", clock.now(),
                                                  list(scopes) if scopes else None)
            made = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver",
                                     headers={"Authorization": f"Bearer {raw}"})
            clients.append(made)
            return made

        yield client
        for made in clients:
            await made.aclose()


async def test_the_billing_reference_of_a_provider_payment_is_shown(keys: Keys) -> None:
    api = await keys()
    account = (await api.post("/api/accounts", json=ACCOUNT)).json()
    event = json.dumps({"type": "payment_intent.succeeded", "data": {"object": {
        "id": "pi_C9", "amount_received": 5000, "currency": "usd",
        "metadata": {"account_id": str(account["id"]), "reference": "BILL-10"}}}}).encode()
    signature = stripe.sign("whsec_test", event, 1795618800)  # the test clock's now
    await api.post("/webhooks/payments/stripe", content=event,
                   headers={"Stripe-Signature": signature})
    again = await api.post(f"/api/accounts/{account['id']}/payments",
                           json={"amount": "50.00", "reference": "BILL-10"})
    assert (again.status_code, again.json()["reference"], again.json()["alias"]) == (
        200, "pi_C9", "BILL-10")
    payments = (await api.get(f"/api/accounts/{account['id']}")).json()["payments"]
    assert [(p["reference"], p["alias"]) for p in payments] == [("pi_C9", "BILL-10")]


@pytest.mark.parametrize(("paid_at", "expected"), [
    ("1900-01-01T00:00:00+00:00", 422),
    ("1999-12-31T23:59:59+00:00", 422),
    ("2000-01-01T00:00:00+00:00", 201),
])
async def test_paid_at_is_not_before_2000(keys: Keys, paid_at: str, expected: int) -> None:
    api = await keys()
    account = (await api.post("/api/accounts", json=ACCOUNT)).json()
    paid = await api.post(f"/api/accounts/{account['id']}/payments",
                          json={"amount": "10.00", "reference": "OLD", "paid_at": paid_at})
    assert paid.status_code == expected, paid.text
    if expected == 422:
        assert "before 2000-01-01" in paid.json()["detail"]


async def test_an_unknown_creditor_in_a_report_is_a_422(keys: Keys) -> None:
    api = await keys()
    await api.post("/api/accounts", json=ACCOUNT)
    unknown = await api.get("/api/reports/recovery?creditor_id=999")
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "unknown creditor_id 999"
    known = await api.get("/api/reports/recovery?creditor_id=1")
    assert known.status_code == 200, known.text


async def test_a_read_key_may_dry_run_a_strategy(keys: Keys) -> None:
    reader = await keys("read")
    # The strategy does not exist: past the scope check, the route answers 404, not 403.
    response = await reader.post("/api/strategies/999/simulate")
    assert response.status_code == 404, response.text
    assert (await reader.post("/api/strategies/999/activate", json={})).status_code == 403
