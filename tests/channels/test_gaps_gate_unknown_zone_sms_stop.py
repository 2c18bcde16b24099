"""Unknown time zones keep quiet hours and the one night reply; an SMS STOP stops WhatsApp too."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from backend.container import Container
from backend.db.models import AuditEvent, ContactPoint
from backend.services import apikeys
from backend.services.compliance.consent import record_opt_out
from backend.services.compliance.facts import ContactState, GateFacts, SentRecord
from backend.services.compliance.gate import decide
from backend.services.compliance.rules import load_rules
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.channels.helpers import PHONE, seed_debtor
from tests.fakes.server import FakeServer

RULES = load_rules()
TOLL_FREE = ConversationKey("sms", "+18005550102")
NIGHT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 03:00 in New York, 22:00 in Honolulu
CONSENTED = ContactState(opted_out_at=None, consent=True, wrong_party=False)


def unknown(**kw: object) -> GateFacts:
    """A debtor with no zone at all, who has just written (message 7)."""
    base = GateFacts(zones=(), contact=CONSENTED, conversation_id=1, latest_inbound_id=7,
                     latest_inbound_at=NIGHT - timedelta(seconds=20))
    return replace(base, **kw)  # type: ignore[arg-type]


def reply(purpose: Purpose = Purpose.REPLY) -> OutboundMessage:
    return OutboundMessage(key=TOLL_FREE, text="Hello", purpose=purpose, conversation_id=1,
                           account_id=1, in_reply_to=7)


def test_at_night_an_unknown_zone_gets_one_reply_and_the_rest_wait() -> None:
    first = decide(reply(), unknown(), RULES, NIGHT)
    assert first.allowed and first.details["reply_exception"] is True
    assert first.details["zone_unknown"] is True and "Pacific/Honolulu" in first.details["zones"]
    assert first.details["local_times"]["Pacific/Honolulu"] == "2026-11-29 22:00"
    replied = unknown(recent=(SentRecord(NIGHT - timedelta(seconds=5), "reply", 1),))
    for purpose in (Purpose.REPLY, Purpose.AGENT):
        second = decide(reply(purpose), replied, RULES, NIGHT)
        assert second.status == "deferred" and second.reason == "quiet_hours"
        # 08:00 in Honolulu is 13:00 in New York: the first hour good in every US zone.
        assert second.not_before == datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
        assert second.details["zone_unknown"] is True


def test_a_deferred_reply_to_an_unknown_zone_goes_when_every_zone_is_awake() -> None:
    later = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
    replied = unknown(recent=(SentRecord(NIGHT - timedelta(seconds=5), "reply", 1),))
    decision = decide(reply(), replied, RULES, later)
    assert decision.allowed and decision.details["zone_unknown"] is True


def test_outreach_to_an_unknown_zone_still_waits_for_a_location() -> None:
    noon = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # inside every zone's hours
    decision = decide(reply(Purpose.REMINDER), unknown(), RULES, noon)
    assert decision.reason == "no_location_signal"


@pytest.fixture
async def channel_auth(channel_app: FastAPI, wired: Container) -> dict[str, str]:
    async with wired.sessions.begin() as session:
        _, raw = await apikeys.create_key(session, "test", wired.clock.now())
    return {"Authorization": f"Bearer {raw}"}


async def test_an_sms_stop_stops_whatsapp_reminders_to_the_same_number(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    graph_api: FakeServer, channel_auth: dict[str, str], clock: SettableClock,
) -> None:
    clock.set(datetime(2026, 11, 25, 17, 0, tzinfo=UTC))  # noon in New York
    debtor_id, account_id = await seed_debtor(wired, now=clock.now(),
                                              channels=("sms", "whatsapp"))
    async with wired.sessions.begin() as session:
        await record_opt_out(session, ConversationKey("sms", PHONE), "STOP", clock.now())
    answer = (await channel_client.post(f"/api/accounts/{account_id}/remind",
                                        headers=channel_auth)).json()
    assert answer["status"] == "blocked", answer
    assert graph_api.requests == [] and twilio_api.calls("/Messages.json") == []
    async with wired.sessions() as session:
        whatsapp = (await session.scalars(select(ContactPoint).where(
            ContactPoint.debtor_id == debtor_id, ContactPoint.channel == "whatsapp"))).one()
        assert whatsapp.opted_out_at is not None
        audited = (await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "contact.opted_out"))).all()
    assert any(a.data.get("channel") == "whatsapp" and a.data.get("same_number_as") == "sms"
               for a in audited)


async def test_a_whatsapp_stop_stops_sms_to_the_same_number_too(
    wired: Container, clock: SettableClock,
) -> None:
    debtor_id, _ = await seed_debtor(wired, now=clock.now(), channels=("sms", "whatsapp"))
    async with wired.sessions.begin() as session:
        await record_opt_out(session, ConversationKey("whatsapp", PHONE), "BAJA", clock.now())
    async with wired.sessions() as session:
        sms = (await session.scalars(select(ContactPoint).where(
            ContactPoint.debtor_id == debtor_id, ContactPoint.channel == "sms"))).one()
    assert sms.opted_out_at is not None
