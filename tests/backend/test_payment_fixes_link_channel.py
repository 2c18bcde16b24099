"""A payment through a pay link is recorded under the channel the link was sent on."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
from sqlalchemy import select

from backend.console import users
from backend.container import Container
from backend.db.models import Handoff, Payment
from backend.db.models.enums import Role
from tests import test_end_to_end
from tests.backend import test_api_payments
from tests.channels.helpers import PUBLIC_BASE_URL, seed_debtor
from tests.console.conftest import PASSWORD, login
from tests.test_end_to_end import Parley

# The whole app with SMS through a fake Twilio and the trained NLU; the payments app alone.
parley = test_end_to_end.parley
twilio_api = test_end_to_end.twilio_api
served = test_api_payments.served
CARD = {"card": "4242 4242 4242 4242"}
PAY_LINK = re.compile(re.escape(PUBLIC_BASE_URL) + r"(/pay/\S+)")


async def _verified_by_sms(parley: Parley) -> int:
    _, account_id = await seed_debtor(parley.container, now=parley.container.clock.now())
    await parley.texts(1, "how much do I owe?")
    await parley.texts(2, "04/02/1985")
    balance = await parley.texts(3, "10001")
    assert any("$420.50" in body for body in balance)
    return account_id


def _link_in(bodies: list[str]) -> str:
    [path] = [m.group(1) for body in bodies if (m := PAY_LINK.search(body))]
    return path


async def _pay(client: httpx.AsyncClient, path: str) -> None:
    paid = await client.post(path, data=CARD)
    assert "Payment complete" in paid.text


async def _channels(container: Container, account_id: int) -> list[str | None]:
    async with container.sessions() as session:
        rows = await session.scalars(select(Payment.channel).where(
            Payment.account_id == account_id).order_by(Payment.id))
        return list(rows)


async def test_a_link_the_bot_sent_by_sms_is_paid_as_sms(parley: Parley) -> None:
    account_id = await _verified_by_sms(parley)
    path = _link_in(await parley.texts(4, "1"))  # "Pay now"
    await _pay(parley.client, path)
    assert await _channels(parley.container, account_id) == ["sms"]


async def test_a_link_an_agent_sent_by_sms_is_paid_as_sms(parley: Parley) -> None:
    account_id = await _verified_by_sms(parley)
    await parley.texts(4, "I want to talk to a real person")
    async with parley.container.sessions() as session:
        handoff = await session.scalar(select(Handoff))
    assert handoff is not None
    async with parley.container.sessions.begin() as session:
        await users.create_agent(session, email="ana@example.com", name="Ana", role=Role.AGENT,
                                 password=PASSWORD, now=parley.container.clock.now())
    token = await login(parley.client, "ana@example.com")
    conversation = f"/console/conversations/{handoff.conversation_id}"
    await parley.client.post(f"{conversation}/claim", data={"csrf_token": token})
    parley.sent_before = len(parley.twilio.calls("/Messages.json"))
    sent = await parley.client.post(f"{conversation}/payment-link", data={
        "csrf_token": token, "amount": "50.00", "recipient_verified": "true"})
    assert sent.status_code == 303
    path = _link_in([c.form["Body"] for c in parley.twilio.calls("/Messages.json")
                     [parley.sent_before:]])
    await _pay(parley.client, path)
    assert await _channels(parley.container, account_id) == ["sms"]


async def test_a_link_issued_for_a_channel_is_paid_under_it_and_one_without_under_none(
    served: tuple[Container, httpx.AsyncClient, str],
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    links = container.services["payment_links"]
    named = links.url_for(account_id, Decimal("10.00"), channel="whatsapp")
    await _pay(client, named.removeprefix(links.base_url))
    unnamed = links.url_for(account_id, Decimal("10.00"))  # sent nowhere Parley recorded
    await _pay(client, unnamed.removeprefix(links.base_url))
    assert await _channels(container, account_id) == ["whatsapp", None]
