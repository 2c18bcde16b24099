"""Held bot replies: a later turn's reply supersedes them; an expired verification drops them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from backend.channels_wiring import install_channels
from backend.container import Container, build_container
from backend.db.models import AuditEvent, Message
from backend.services import audit
from backend.services.inbox import store_inbound
from backend.settings import Settings
from bot.clock import SettableClock
from bot.messages import ConversationKey, InboundMessage, OutboundMessage, Purpose
from tests.channels.helpers import PHONE, seed_debtor
from tests.fakes.server import FakeServer
from tests.fakes.twilio import twilio_error

NIGHT = datetime(2026, 11, 26, 3, 39, tzinfo=UTC)  # 22:39 in New York
RATE_LIMITED = twilio_error(20429, 429, "Too many requests")
KEY = ConversationKey("sms", PHONE)


async def inbound(container: Container, text: str) -> tuple[int, int]:
    """The debtor writes `text` now; (conversation id, message id)."""
    now = container.clock.now()
    message = InboundMessage(KEY, text, f"SM{now.timestamp()}{text}", now)
    async with container.sessions.begin() as session:
        stored = await store_inbound(session, message, now=now)
        row = await session.get(Message, stored.message_id)
        assert row is not None
        row.processed_at = now
    return stored.conversation_id, stored.message_id


async def reply(container: Container, conversation_id: int, account_id: int, answered: int,
                text: str, *, verified: bool = False, verifies: bool = False) -> int:
    """The bot's reply to inbound `answered`, sent when the gate allows; its message id."""
    now = container.clock.now()
    outbox = container.services["outbox"]
    async with container.sessions.begin() as session:
        if verifies:  # the turn that verified the debtor audits it, as bot/dialogs/identity does
            await audit.record(session, occurred_at=now, actor="bot", action="identity.verified",
                               subject_type="conversation", subject_id=conversation_id)
        decision = await outbox.submit(session, OutboundMessage(
            key=KEY, text=text, purpose=Purpose.REPLY, conversation_id=conversation_id,
            account_id=account_id, in_reply_to=answered, recipient_verified=verified,
            idempotency_key=f"turn:{answered}:{text[:10]}"))
    assert decision.message_id is not None
    if decision.allowed:
        await outbox.send([decision.message_id])
    return decision.message_id


async def row(container: Container, message_id: int) -> Message:
    async with container.sessions() as session:
        found = await session.get(Message, message_id)
    assert found is not None
    return found


async def actions(container: Container, message_id: int) -> list[str]:
    async with container.sessions() as session:
        return list((await session.scalars(select(AuditEvent.action).where(
            AuditEvent.subject_type == "message", AuditEvent.subject_id == str(message_id))
            .order_by(AuditEvent.id))).all())


async def test_replies_held_overnight_are_superseded_or_dropped_once_verification_expired(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    clock.set(NIGHT)
    _, account_id = await seed_debtor(wired, now=clock.now())
    conversation_id, hi = await inbound(wired, "hi")
    asked_dob = await reply(wired, conversation_id, account_id, hi, "Please reply with your DOB")
    assert (await row(wired, asked_dob)).delivery_status == "queued"  # the one night reply
    clock.advance(timedelta(minutes=1))
    _, dob = await inbound(wired, "04/02/1985")
    asked_zip = await reply(wired, conversation_id, account_id, dob,
                            "Thanks. Now please reply with the ZIP code")
    clock.advance(timedelta(minutes=1))
    _, zip_code = await inbound(wired, "10001")
    verified = await reply(wired, conversation_id, account_id, zip_code,
                           "Thank you, you're verified. How can I help?", verified=True,
                           verifies=True)
    assert [(await row(wired, m)).delivery_status for m in (asked_zip, verified)] == [
        "deferred", "deferred"]
    sent_before = len(twilio_api.calls("/Messages.json"))

    clock.set(datetime(2026, 11, 26, 13, 1, tzinfo=UTC))  # 08:01 in New York
    [prompt] = await wired.services["outbox"].release_due(clock.now())
    # Nothing out of date went: only the request to verify again (identity.reverify_held).
    [body] = [c.form["Body"] for c in twilio_api.calls("/Messages.json")[sent_before:]]
    assert body.startswith("Hello again. To go on with what you asked us earlier")
    assert prompt not in (asked_zip, verified)
    superseded = await row(wired, asked_zip)
    assert (superseded.delivery_status, superseded.error_code) == ("superseded", "superseded")
    assert "message.superseded" in await actions(wired, asked_zip)
    expired = await row(wired, verified)
    assert (expired.delivery_status, expired.error_code) == ("blocked", "verification_expired")
    assert "message.verification_expired" in await actions(wired, verified)


async def test_a_reply_deferred_by_a_429_is_dropped_once_a_later_reply_answered_the_debtor(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    conversation_id, hi = await inbound(wired, "hi")
    twilio_api.fail_next(*[RATE_LIMITED] * 3)
    asked_dob = await reply(wired, conversation_id, account_id, hi, "Please reply with your DOB")
    assert (await row(wired, asked_dob)).delivery_status == "deferred"
    clock.advance(timedelta(seconds=30))
    _, dob = await inbound(wired, "04/02/1985")
    asked_zip = await reply(wired, conversation_id, account_id, dob,
                            "Thanks. Now please reply with the ZIP code")
    assert (await row(wired, asked_zip)).delivery_status == "queued"
    calls = len(twilio_api.calls("/Messages.json"))

    clock.advance(timedelta(minutes=2))
    assert await wired.services["outbox"].release_due(clock.now()) == []
    assert len(twilio_api.calls("/Messages.json")) == calls  # the old question never went
    assert (await row(wired, asked_dob)).delivery_status == "superseded"
    assert "message.superseded" in await actions(wired, asked_dob)


async def test_the_latest_held_reply_still_goes_while_its_verification_lasts(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    conversation_id, zip_code = await inbound(wired, "10001")
    twilio_api.fail_next(*[RATE_LIMITED] * 3)
    verified = await reply(wired, conversation_id, account_id, zip_code,
                           "Thank you, you're verified. How can I help?", verified=True,
                           verifies=True)
    assert (await row(wired, verified)).delivery_status == "deferred"
    clock.advance(timedelta(minutes=1))
    assert await wired.services["outbox"].release_due(clock.now()) == [verified]
    assert (await row(wired, verified)).delivery_status == "queued"


async def test_a_held_reply_without_verification_is_sent_in_the_morning(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
) -> None:
    clock.set(NIGHT)
    _, account_id = await seed_debtor(wired, now=clock.now())
    conversation_id, hi = await inbound(wired, "hi")
    await reply(wired, conversation_id, account_id, hi, "Please reply with your DOB")
    _, dob = await inbound(wired, "04/02/1985")
    asked_zip = await reply(wired, conversation_id, account_id, dob,
                            "Thanks. Now please reply with the ZIP code")
    assert (await row(wired, asked_zip)).delivery_status == "deferred"
    clock.set(datetime(2026, 11, 26, 13, 1, tzinfo=UTC))
    assert await wired.services["outbox"].release_due(clock.now()) == [asked_zip]


def _policy_dir_with_ttl(settings: Settings, tmp_path: Path, minutes: int) -> Path:
    policies = tmp_path / "policies"
    policies.mkdir()
    shipped = (settings.policy_dir / "default.yml").read_text(encoding="utf-8")
    assert "verified_ttl_minutes: 30" in shipped
    (policies / "default.yml").write_text(
        shipped.replace("verified_ttl_minutes: 30", f"verified_ttl_minutes: {minutes}"),
        encoding="utf-8")
    return policies


async def test_the_outbox_takes_the_default_policys_verification_window(
    settings: Settings, clock: SettableClock, tmp_path: Path,
) -> None:
    policies = _policy_dir_with_ttl(settings, tmp_path, 45)
    container = build_container(settings.model_copy(update={"policy_dir": policies}), clock)
    try:
        install_channels(None, container)
        assert container.services["outbox"].verified_ttl == timedelta(minutes=45)
    finally:
        await container.close()
