"""A campaign contact deferred by a failed send shows the state of its message once it goes."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlalchemy import select

from backend.container import Container
from backend.db.models import PlannedContact
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.channels.helpers import PHONE, messages, meta_post, payload, seed_debtor
from tests.fakes.server import FakeServer
from tests.fakes.twilio import twilio_error
from tests.workflow import seed

HOOK = "/webhooks/whatsapp"
OUTAGE = twilio_error(20503, 503, "Service unavailable")
SERVER_ERROR = twilio_error(20500, 500, "Internal server error")


async def _campaign_message(container: Container, account_id: int, channel: str) -> int:
    """A campaign step's message, stored for sending, and its planned contact (as sent)."""
    now = container.clock.now()
    outbound = OutboundMessage(ConversationKey(channel, PHONE), "Reply STOP to stop",
                               purpose=Purpose.REMINDER, account_id=account_id,
                               template="parley_reminder", sender="workflow",
                               idempotency_key=f"a{account_id}:d+1")
    async with container.sessions.begin() as session:
        version = await seed.activate(session, now)
        decision = await container.services["outbox"].submit(session, outbound)
        assert decision.allowed and decision.message_id is not None
        session.add(PlannedContact(
            key=f"a{account_id}:d+1", account_id=account_id, strategy_version_id=version.id,
            segment="standard", step="d+1", anchor="due_date", anchor_date=date(2026, 10, 1),
            due_at=now, status="sent", reason="test", message_id=decision.message_id,
            channel=channel, created_at=now, updated_at=now))
    return decision.message_id


async def _delivery_status(container: Container, message_id: int) -> str | None:
    async with container.sessions() as session:
        found: str | None = await session.scalar(select(PlannedContact.delivery_status).where(
            PlannedContact.message_id == message_id))
        return found


async def test_a_send_deferred_by_a_provider_outage_updates_its_contact_when_it_goes(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    message_id = await _campaign_message(wired, account_id, "sms")
    twilio_api.fail_next(SERVER_ERROR, OUTAGE, OUTAGE)  # every call of the request
    outbox = wired.services["outbox"]
    await outbox.send([message_id])
    assert await _delivery_status(wired, message_id) == "deferred"
    clock.advance(timedelta(minutes=1))
    assert await outbox.release_due(clock.now()) == [message_id]
    [message] = await messages(wired, "outbound")
    assert (message.delivery_status, (message.provider_message_id or "")[:2]) == ("queued", "SM")
    assert await _delivery_status(wired, message_id) == "queued"


async def test_a_template_resent_after_131047_updates_its_contact(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now(), channels=("whatsapp",))
    await channel_client.post(HOOK, **meta_post(payload("whatsapp_cloud_text.json")))
    message_id = await _campaign_message(wired, account_id, "whatsapp")
    await wired.services["outbox"].send([message_id])
    [row] = await messages(wired, "outbound")
    failed = payload("whatsapp_cloud_status_failed_131047.json",
                     wamid=row.provider_message_id or "")
    assert (await channel_client.post(HOOK, **meta_post(failed))).status_code == 200
    assert [c.json["type"] for c in graph_api.calls("/messages")] == ["text", "template"]
    [row] = await messages(wired, "outbound")
    assert row.delivery_status not in ("deferred", "pending")
    assert await _delivery_status(wired, message_id) == row.delivery_status
