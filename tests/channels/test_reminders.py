"""Reminders: best allowed channel, nothing disclosed, per-locale text, the API and the gate."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, ContactPoint
from backend.services import apikeys
from backend.services.compliance.consent import record_opt_in, record_opt_out
from bot.clock import SettableClock
from bot.messages import ConversationKey
from tests.channels.helpers import PHONE, messages, seed_debtor
from tests.fakes.server import FakeServer

DISCLOSURES = re.compile(r"debt|owe|balance|collect|420|Acme|past due", re.IGNORECASE)


@pytest.fixture
async def channel_auth(channel_app: FastAPI, wired: Container) -> dict[str, str]:
    async with wired.sessions.begin() as session:
        _, raw = await apikeys.create_key(session, "test", wired.clock.now())
    return {"Authorization": f"Bearer {raw}"}


class Links:
    def url_for(self, account: object) -> str:
        return "https://pay.example.com/p/abc123"


async def test_the_api_sends_a_reminder_that_discloses_nothing(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    channel_auth: dict[str, str],
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    wired.services["portal_links"] = Links()
    response = await channel_client.post(f"/api/accounts/{account_id}/remind",
                                         headers=channel_auth)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending" and response.json()["channel"] == "sms"
    [call] = twilio_api.calls("/Messages.json")
    body = call.form["Body"]
    assert call.form["To"] == PHONE and "https://pay.example.com/p/abc123" in body
    assert "STOP" in body and not DISCLOSURES.search(body)


async def test_a_spanish_speaker_gets_the_spanish_reminder(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    channel_auth: dict[str, str],
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now(), language="es")
    await channel_client.post(f"/api/accounts/{account_id}/remind", headers=channel_auth)
    assert twilio_api.calls("/Messages.json")[0].form["Body"].startswith("Hola")


async def test_a_linked_telegram_chat_is_preferred(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    telegram_api: FakeServer, channel_auth: dict[str, str],
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now(), channels=("sms", "telegram"))
    response = await channel_client.post(f"/api/accounts/{account_id}/remind",
                                         headers=channel_auth)
    assert response.json()["channel"] == "telegram"
    assert len(telegram_api.calls("/sendMessage")) == 1 and twilio_api.calls("/Messages.json") == []


async def _another_account(container: Container, account_id: int, n: int) -> int:
    """One more account of the same debtor (same creditor and portfolio)."""
    async with container.sessions.begin() as session:
        first = await session.get(Account, account_id)
        assert first is not None
        now = container.clock.now()
        other = Account(creditor_id=first.creditor_id, portfolio_id=first.portfolio_id,
                        debtor_id=first.debtor_id, external_ref=f"A-{n}", currency="USD",
                        original_balance=Decimal("100.00"), current_balance=Decimal("100.00"),
                        due_date=first.due_date, created_at=now, updated_at=now)
        session.add(other)
        await session.flush()
        return other.id


async def test_a_reminder_at_night_is_deferred_and_a_fourth_in_a_week_is_capped(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    channel_auth: dict[str, str], clock: SettableClock,
) -> None:
    _, first = await seed_debtor(wired, now=clock.now())
    accounts = [first] + [await _another_account(wired, first, n) for n in range(2, 6)]
    urls = [f"/api/accounts/{account_id}/remind" for account_id in accounts]
    for url in urls[:3]:
        assert (await channel_client.post(url, headers=channel_auth)).json()["status"] == "pending"
    capped = (await channel_client.post(urls[3], headers=channel_auth)).json()
    assert (capped["status"], capped["reason"]) == ("deferred", "frequency_cap")
    clock.advance(timedelta(hours=12))
    assert (await channel_client.post(urls[4], headers=channel_auth)).json()["reason"] in (
        "quiet_hours", "frequency_cap")
    assert len(twilio_api.calls("/Messages.json")) == 3
    assert len(await messages(wired, "outbound")) == 5


async def test_an_account_is_reminded_once(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    channel_auth: dict[str, str], clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    url = f"/api/accounts/{account_id}/remind"
    first = (await channel_client.post(url, headers=channel_auth)).json()
    assert first["status"] == "pending"
    clock.advance(timedelta(hours=1))
    again = (await channel_client.post(url, headers=channel_auth)).json()
    assert again == {"account_id": account_id, "channel": "sms",
                     "message_id": first["message_id"], "status": "skipped",
                     "reason": "already_reminded", "not_before": None}
    assert len(twilio_api.calls("/Messages.json")) == 1
    assert len(await messages(wired, "outbound")) == 1


async def test_two_reminders_asked_at_once_send_one(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    channel_auth: dict[str, str],
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    url = f"/api/accounts/{account_id}/remind"
    answers = await asyncio.gather(*(channel_client.post(url, headers=channel_auth)
                                     for _ in range(4)))
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["pending", "skipped", "skipped", "skipped"], [a.text for a in answers]
    assert len(twilio_api.calls("/Messages.json")) == 1
    assert len(await messages(wired, "outbound")) == 1


async def test_a_blocked_reminder_may_be_tried_again(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    channel_auth: dict[str, str], clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    async with wired.sessions.begin() as session:
        [point] = (await session.scalars(select(ContactPoint))).all()
        point.consent = False
    url = f"/api/accounts/{account_id}/remind"
    assert (await channel_client.post(url, headers=channel_auth)).json()["status"] == "blocked"
    async with wired.sessions.begin() as session:
        [point] = (await session.scalars(select(ContactPoint))).all()
        point.consent = True
    assert (await channel_client.post(url, headers=channel_auth)).json()["status"] == "pending"
    assert len(twilio_api.calls("/Messages.json")) == 1


async def test_an_unknown_account_is_404(
    channel_client: httpx.AsyncClient, channel_auth: dict[str, str]
) -> None:
    response = await channel_client.post("/api/accounts/999999/remind", headers=channel_auth)
    assert response.status_code == 404


async def test_at_night_an_opted_out_whatsapp_does_not_lose_the_text_due_in_the_morning(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    graph_api: FakeServer, channel_auth: dict[str, str], clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now(), channels=("sms", "whatsapp"))
    async with wired.sessions.begin() as session:
        # Only WhatsApp stays opted out: an opt-out there stops SMS to the number too
        # (tests/channels/test_gaps_gate_unknown_zone_sms_stop.py) until SMS says START.
        await record_opt_out(session, ConversationKey("whatsapp", PHONE), "STOP", clock.now())
        await record_opt_in(session, ConversationKey("sms", PHONE), "START", clock.now())
    clock.set(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))  # 03:00 in New York
    answer = (await channel_client.post(f"/api/accounts/{account_id}/remind",
                                        headers=channel_auth)).json()
    assert (answer["channel"], answer["status"], answer["reason"]) == (
        "sms", "deferred", "quiet_hours")
    assert graph_api.requests == [] and twilio_api.calls("/Messages.json") == []


async def test_the_newest_number_on_a_channel_gets_the_reminder(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    channel_auth: dict[str, str], clock: SettableClock,
) -> None:
    debtor_id, account_id = await seed_debtor(wired, now=clock.now())
    async with wired.sessions.begin() as session:
        session.add(ContactPoint(debtor_id=debtor_id, channel="sms", address="+12125550999",
                                 consent=True, wrong_party=False, created_at=clock.now()))
    await channel_client.post(f"/api/accounts/{account_id}/remind", headers=channel_auth)
    [call] = twilio_api.calls("/Messages.json")
    assert call.form["To"] == "+12125550999"
