"""Held replies dropped as expired overnight: one non-disclosing request to verify again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from backend.container import Container
from backend.db.models import AuditEvent, Message
from backend.services import audit
from backend.services.compliance.consent import record_opt_out
from backend.services.delivery import envelope
from backend.services.inbox import store_inbound
from bot.clock import SettableClock
from bot.messages import ConversationKey, InboundMessage, OutboundMessage, Purpose
from bot.responses.catalog import Catalog
from tests.channels import conftest as channels
from tests.channels.helpers import PHONE, seed_debtor
from tests.fakes.server import FakeServer

# The channels' app (install_channels, fake providers): its fixtures, under their own names.
twilio_api = channels.twilio_api
telegram_api = channels.telegram_api
graph_api = channels.graph_api
channel_settings = channels.channel_settings
channel_app = channels.channel_app
channel_client = channels.channel_client
wired = channels.wired

NIGHT = datetime(2026, 11, 26, 3, 39, tzinfo=UTC)  # 22:39 in New York
MORNING = datetime(2026, 11, 26, 13, 1, tzinfo=UTC)  # 08:01 in New York
KEY = ConversationKey("sms", PHONE)
PROMPT = "identity.reverify_held"


@dataclass(frozen=True)
class Night:
    """What a night of verification left: its conversation, account, last inbound, held ids."""

    conversation_id: int
    account_id: int
    last_inbound: int
    held: list[int]


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
                text: str, *, verified: bool = False, verifies: bool = False,
                language: str = "en") -> int:
    """The bot's reply to inbound `answered` in `language`, sent when the gate allows."""
    now = container.clock.now()
    outbox = container.services["outbox"]
    async with container.sessions.begin() as session:
        if verifies:  # the turn that verified the debtor audits it, as bot/dialogs/identity does
            await audit.record(session, occurred_at=now, actor="bot", action="identity.verified",
                               subject_type="conversation", subject_id=conversation_id)
        decision = await outbox.submit(session, OutboundMessage(
            key=KEY, text=text, purpose=Purpose.REPLY, conversation_id=conversation_id,
            account_id=account_id, in_reply_to=answered, recipient_verified=verified,
            idempotency_key=f"turn:{answered}:{text[:10]}", language=language))
    assert decision.message_id is not None
    if decision.allowed:
        await outbox.send([decision.message_id])
    return decision.message_id


async def night_of_verification(container: Container, *, language: str = "en",
                                verified_replies: int = 1) -> Night:
    """The debtor verifies at night: the bot's verified replies are held."""
    _, account_id = await seed_debtor(container, now=container.clock.now(), language=language)
    conversation_id, hi = await inbound(container, "hola" if language == "es" else "hi")
    await reply(container, conversation_id, account_id, hi, "DOB?", language=language)
    _, dob = await inbound(container, "02/04/1985")
    await reply(container, conversation_id, account_id, dob, "ZIP?", language=language)
    _, zip_code = await inbound(container, "10001")
    held = [await reply(container, conversation_id, account_id, zip_code, f"Verified {n}",
                        verified=True, verifies=n == 0, language=language)
            for n in range(verified_replies)]
    return Night(conversation_id, account_id, zip_code, held)


async def prompts(container: Container) -> list[Message]:
    async with container.sessions() as session:
        rows = (await session.scalars(select(Message).order_by(Message.id))).all()
    return [m for m in rows if str(envelope(m).get("idempotency_key")).startswith("reverify:")]


async def audited(container: Container, action: str) -> list[AuditEvent]:
    async with container.sessions() as session:
        return list((await session.scalars(select(AuditEvent).where(
            AuditEvent.action == action))).all())


def bodies(api: FakeServer, since: int) -> list[str]:
    return [call.form["Body"] for call in api.calls("/Messages.json")[since:]]


async def test_a_reply_dropped_as_expired_is_replaced_by_one_prompt_in_spanish(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    clock.set(NIGHT)
    night = await night_of_verification(wired, language="es")
    conversation_id, [verified] = night.conversation_id, night.held
    sent_before = len(twilio_api.calls("/Messages.json"))

    clock.set(MORNING)
    released = await wired.services["outbox"].release_due(clock.now())

    [prompt] = await prompts(wired)
    assert released == [prompt.id] and prompt.conversation_id == conversation_id
    [body] = bodies(twilio_api, sent_before)
    assert body.startswith(Catalog().text(PROMPT, "es"))
    assert "BAJA" in body or "STOP" in body  # the channel's opt-out line, as every reply has
    assert "420" not in body and "Acme" not in body
    data = envelope(prompt)
    assert (data["language"], data["recipient_verified"], data["discusses_debt"]) == (
        "es", False, False)
    async with wired.sessions() as session:
        dropped = await session.get(Message, verified)
    assert dropped is not None and dropped.error_code == "verification_expired"
    [event] = await audited(wired, "message.reverify_prompted")
    assert event.subject_id == str(prompt.id) and event.data["instead_of"] == verified


async def test_two_replies_dropped_as_expired_give_one_prompt(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    clock.set(NIGHT)
    held = (await night_of_verification(wired, verified_replies=2)).held
    sent_before = len(twilio_api.calls("/Messages.json"))

    clock.set(MORNING)
    await wired.services["outbox"].release_due(clock.now())

    assert len(await prompts(wired)) == 1
    [body] = bodies(twilio_api, sent_before)
    assert body.startswith(Catalog().text(PROMPT, "en"))
    assert len(await audited(wired, "message.verification_expired")) == len(held) == 2
    # The next round finds nothing more to say.
    clock.advance(timedelta(minutes=5))
    await wired.services["outbox"].release_due(clock.now())
    assert len(await prompts(wired)) == 1 and bodies(twilio_api, sent_before) == [body]


async def test_a_held_reply_still_verified_goes_as_before_without_a_prompt(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    clock.set(NIGHT)
    _, account_id = await seed_debtor(wired, now=clock.now())
    conversation_id, hi = await inbound(wired, "hi")
    await reply(wired, conversation_id, account_id, hi, "DOB?")
    _, dob = await inbound(wired, "04/02/1985")
    asked_zip = await reply(wired, conversation_id, account_id, dob, "ZIP?")
    sent_before = len(twilio_api.calls("/Messages.json"))

    clock.set(MORNING)
    assert await wired.services["outbox"].release_due(clock.now()) == [asked_zip]
    assert bodies(twilio_api, sent_before)[0].startswith("ZIP?")
    assert await prompts(wired) == []


async def test_no_prompt_when_another_reply_of_the_conversation_goes(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    clock.set(NIGHT)
    night = await night_of_verification(wired)
    # The same turn's reply that needs no identity (a handoff notice, say) still goes.
    notice = await reply(wired, night.conversation_id, night.account_id, night.last_inbound,
                         "Notice")

    clock.set(MORNING)
    assert await wired.services["outbox"].release_due(clock.now()) == [notice]
    assert await prompts(wired) == []


async def test_nothing_is_sent_to_a_debtor_who_opted_out_meanwhile(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    clock.set(NIGHT)
    await night_of_verification(wired)
    async with wired.sessions.begin() as session:
        await record_opt_out(session, KEY, "STOP", clock.now())
    sent_before = len(twilio_api.calls("/Messages.json"))

    clock.set(MORNING)
    assert await wired.services["outbox"].release_due(clock.now()) == []
    assert bodies(twilio_api, sent_before) == []
    assert all(p.delivery_status == "blocked" for p in await prompts(wired))
