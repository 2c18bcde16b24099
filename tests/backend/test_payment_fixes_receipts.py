"""A posted payment's receipt reaches the debtor: in full while verified, neutral otherwise."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import select

from backend.db.models import Message
from backend.services.delivery import envelope
from bot.clock import SettableClock
from tests import test_end_to_end
from tests.channels.helpers import PUBLIC_BASE_URL, seed_debtor
from tests.conftest import T0
from tests.conversations import test_portal_e2e
from tests.test_end_to_end import Parley

# The whole app with SMS through a fake Twilio, and the trained NLU.
parley = test_end_to_end.parley
twilio_api = test_end_to_end.twilio_api
portal = test_portal_e2e.portal  # the app with the portal, the trained NLU, no SMS
NEUTRAL = "Thank you, we received your payment. For details, reply here or open your secure link: "


async def _verified_by_sms(parley: Parley) -> int:
    """A debtor owing $420.50 verifies by SMS at T0 (10:00 in New York); the account id."""
    _, account_id = await seed_debtor(parley.container, now=parley.container.clock.now())
    await parley.texts(1, "how much do I owe?")
    await parley.texts(2, "04/02/1985")
    balance = await parley.texts(3, "10001")
    assert any("$420.50" in body for body in balance)
    return account_id


async def _pay(parley: Parley, account_id: int, reference: str) -> list[str]:
    """A billing system posts $20.00; the SMS bodies Parley sent while answering it."""
    response = await parley.client.post(
        f"/api/accounts/{account_id}/payments", json={"amount": "20.00", "reference": reference},
        headers=await test_end_to_end._api_key(parley.container))
    assert response.status_code == 201, response.text
    return _new_bodies(parley)


def _new_bodies(parley: Parley) -> list[str]:
    calls = parley.twilio.calls("/Messages.json")
    new, parley.sent_before = calls[parley.sent_before:], len(calls)
    return [call.form["Body"] for call in new]


async def _sent_soon(parley: Parley) -> list[str]:
    """What was sent, waiting a little: the app's own job loop may be the one releasing it."""
    for _ in range(50):
        if len(parley.twilio.calls("/Messages.json")) > parley.sent_before:
            break
        await asyncio.sleep(0.1)
    return _new_bodies(parley)


async def _receipt(parley: Parley) -> Message:
    async with parley.container.sessions() as session:
        found = await session.scalar(select(Message).where(
            Message.intent == "payment_receipt").order_by(Message.id.desc()).limit(1))
    assert found is not None
    return found


def _discloses_nothing(body: str) -> None:
    for word in ("$", "20.00", "420.50", "400.50", "Acme", "debt", "balance", "account"):
        assert word not in body, word


async def test_a_verified_debtor_gets_the_receipt_with_the_amount(parley: Parley) -> None:
    account_id = await _verified_by_sms(parley)
    [body] = await _pay(parley, account_id, "day-pay-1")
    assert "We've received your payment of $20.00" in body and "debt collector" in body
    receipt = await _receipt(parley)
    assert envelope(receipt)["discusses_debt"] is True


async def test_once_verification_lapses_a_neutral_receipt_is_sent(
    parley: Parley, clock: SettableClock,
) -> None:
    account_id = await _verified_by_sms(parley)
    clock.advance(timedelta(minutes=35))  # verification lasts 30 minutes
    [body] = await _pay(parley, account_id, "night-pay-1")
    assert body.startswith(NEUTRAL + PUBLIC_BASE_URL + "/p/")
    assert body.endswith("Reply STOP to stop messages to this number.")
    _discloses_nothing(body)
    receipt = await _receipt(parley)
    assert receipt.delivery_status != "blocked" and receipt.error_code is None
    assert envelope(receipt)["discusses_debt"] is False
    # The link opens the debtor's portal, which shows nothing of the debt until they verify.
    portal = body.split(": ", 1)[1].split()[0].removeprefix(PUBLIC_BASE_URL)
    page = await parley.client.get(portal)
    assert page.status_code == 200
    assert not any(word in page.text for word in ("420.50", "400.50", "20.00", "Acme"))


async def test_quiet_hours_defer_the_neutral_receipt_to_the_morning(
    parley: Parley, clock: SettableClock,
) -> None:
    account_id = await _verified_by_sms(parley)
    clock.set(T0 + timedelta(hours=12, minutes=30))  # 22:30 in New York
    assert await _pay(parley, account_id, "late-pay-1") == []
    receipt = await _receipt(parley)
    assert (receipt.delivery_status, receipt.error_code) == ("deferred", "quiet_hours")
    clock.set(T0 + timedelta(hours=22, minutes=5))  # 08:05 in New York
    await parley.container.services["outbox"].release_due(clock.now())
    [body] = await _sent_soon(parley)
    assert body.startswith(NEUTRAL)
    _discloses_nothing(body)


async def test_an_opted_out_debtor_gets_no_receipt(
    parley: Parley, clock: SettableClock,
) -> None:
    account_id = await _verified_by_sms(parley)
    await parley.texts(4, "STOP")
    clock.advance(timedelta(minutes=35))
    assert await _pay(parley, account_id, "stopped-pay-1") == []
    receipt = await _receipt(parley)
    assert (receipt.delivery_status, receipt.error_code) == ("blocked", "opted_out")


async def test_in_the_portal_the_neutral_receipt_only_says_reply_here(
    portal: tuple[httpx.AsyncClient, dict], clock: SettableClock,
) -> None:
    client, auth = portal
    created = (await client.post("/api/accounts", json=test_portal_e2e.ACCOUNT,
                                 headers=auth)).json()
    path = "/p/" + created["portal_url"].split("/p/")[1]
    for text in ("hi", "03/14/1985", "10001"):
        await client.post(f"{path}/messages", json={"text": text})
    clock.advance(timedelta(minutes=35))
    paid = await client.post(f"/api/accounts/{created['id']}/payments", headers=auth,
                             json={"amount": "20.00", "reference": "portal-pay-1"})
    assert paid.status_code == 201
    detail = (await client.get(f"/api/accounts/{created['id']}", headers=auth)).json()
    transcript = (await client.get(f"/api/conversations/{detail['conversations'][0]['id']}",
                                   headers=auth)).json()
    [receipt] = [m for m in transcript["messages"] if m["purpose"] == "payment_receipt"]
    assert receipt["channel"] == "web" and receipt["delivery_status"] != "blocked"
    assert receipt["text"] == "Thank you, we received your payment. For details, just reply here."
