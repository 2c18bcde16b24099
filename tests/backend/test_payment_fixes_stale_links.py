"""A payment link charges what the account owes now, never more, and nothing once it is paid."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, Payment
from tests.backend import test_api_payments

CARD = {"card": "4242 4242 4242 4242"}
NOTHING = "There is nothing to pay"
# The app with the payments routes, and one account owing 300.00.
served = test_api_payments.served


@pytest.fixture
def linked(served: tuple[Container, httpx.AsyncClient, str]
           ) -> tuple[Container, httpx.AsyncClient, int, str]:
    """The container, an API client, the account's id and the path of a link for 300.00."""
    container, client, url = served
    account_id = int(url.split("/")[3])
    return container, client, account_id, _path(container, account_id, "300.00")


def _path(container: Container, account_id: int, amount: str) -> str:
    url = container.services["payment_links"].url_for(account_id, Decimal(amount))
    return "/pay/" + url.split("/pay/")[1]


async def _pay_by_api(client: httpx.AsyncClient, account_id: int, amount: str) -> None:
    response = await client.post(f"/api/accounts/{account_id}/payments",
                                 json={"amount": amount, "reference": f"API-{amount}"})
    assert response.status_code == 201, response.text


async def _payments(container: Container, account_id: int) -> list[tuple[str, Decimal]]:
    async with container.sessions() as session:
        rows = await session.execute(select(Payment.reference, Payment.amount).where(
            Payment.account_id == account_id).order_by(Payment.id))
    return [(reference, amount) for reference, amount in rows]


async def _overpaid(container: Container) -> list[Any]:
    async with container.sessions() as session:
        events = await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "payment.posted"))
        return [e.data["overpaid"] for e in events]


async def test_a_paid_account_has_nothing_to_pay_and_a_stale_form_charges_nothing(
    linked: tuple[Container, httpx.AsyncClient, int, str],
) -> None:
    container, client, account_id, path = linked
    assert "$300.00" in (await client.get(path)).text  # the form the debtor leaves open
    await _pay_by_api(client, account_id, "300.00")
    page = await client.get(path)
    assert page.status_code == 200 and NOTHING in page.text
    assert "$300.00" not in page.text and "<form" not in page.text
    stale = await client.post(path, data=CARD)
    assert stale.status_code == 200 and NOTHING in stale.text
    assert "Payment complete" not in stale.text
    assert await _payments(container, account_id) == [("API-300.00", Decimal("300.00"))]
    assert await _overpaid(container) == ["0.00"]


async def test_a_link_above_the_balance_charges_the_balance_and_says_so(
    linked: tuple[Container, httpx.AsyncClient, int, str],
) -> None:
    container, client, account_id, path = linked
    await _pay_by_api(client, account_id, "200.00")
    page = (await client.get(path)).text
    assert "Amount: <strong>$100.00</strong>" in page and "<form" in page
    assert "The balance is now $100.00, less than the $300.00 this link was sent for" in page
    paid = await client.post(path, data=CARD)
    assert "Payment complete" in paid.text
    [_, (reference, amount)] = await _payments(container, account_id)
    assert reference.startswith("link:") and amount == Decimal("100.00")
    assert await _overpaid(container) == ["0.00", "0.00"]


async def test_a_used_link_charges_nothing_more(
    linked: tuple[Container, httpx.AsyncClient, int, str],
) -> None:
    container, client, account_id, _ = linked
    path = _path(container, account_id, "100.00")
    assert "Payment complete" in (await client.post(path, data=CARD)).text
    again = await client.post(path, data=CARD)
    assert "already been used" in again.text and "Payment complete" not in again.text
    assert "<form" not in (await client.get(path)).text
    assert [a for _, a in await _payments(container, account_id)] == [Decimal("100.00")]


@pytest.mark.parametrize("change", [
    {"status": "closed"}, {"status": "settled"}, {"cease": True}, {"bankruptcy": True},
    {"dispute": True},
])
async def test_a_closed_or_held_account_has_nothing_to_pay(
    linked: tuple[Container, httpx.AsyncClient, int, str], change: dict[str, Any],
) -> None:
    container, client, account_id, path = linked
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        for name, value in change.items():
            setattr(account, name, value)
    page = await client.get(path)
    assert NOTHING in page.text and "<form" not in page.text
    posted = await client.post(path, data=CARD)
    assert NOTHING in posted.text and "Payment complete" not in posted.text
    assert await _payments(container, account_id) == []


async def test_the_pay_page_speaks_the_debtors_language(
    linked: tuple[Container, httpx.AsyncClient, int, str]
) -> None:
    container, client, account_id, path = linked
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        await session.refresh(account, ["debtor"])
        account.debtor.preferred_language = "es"
    page = await client.get(path)
    assert '<html lang="es"' in page.text and "Pago seguro" in page.text
    assert "Importe" in page.text and "$300.00" in page.text
    declined = await client.post(path, data={"card": "4000 0000 0000 0002"})
    assert "Pago rechazado" in declined.text
    paid = await client.post(path, data=CARD)
    assert "Pago completado" in paid.text
    again = await client.get(path)
    assert "Este enlace ya se usó para pagar" in again.text
