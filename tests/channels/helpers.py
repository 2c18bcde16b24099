"""Seeding a debtor, signing provider requests, loading recorded payloads, a stub turn handler."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from backend.container import Container
from backend.db.models import Account, ContactPoint, Conversation, Creditor, Debtor, Message
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.fakes.graph import APP_SECRET
from tests.fakes.twilio import AUTH_TOKEN

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"
PUBLIC_BASE_URL = "https://parley.example.com"
PHONE = "+12125551234"


def payload(name: str, **fill: str) -> Any:
    """A recorded payload with `{placeholders}` filled in."""
    text = (PAYLOADS / name).read_text(encoding="utf-8")
    for key, value in fill.items():
        text = text.replace("{" + key + "}", value)
    return json.loads(text)


def twilio_post(path: str, form: dict[str, str], *, query: str = "",
                base: str = PUBLIC_BASE_URL) -> dict[str, Any]:
    """Keyword arguments for client.post: the form body and a valid X-Twilio-Signature."""
    url = base + path + (f"?{query}" if query else "")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    return {"url": path + (f"?{query}" if query else ""), "content": urlencode(form),
            "headers": {"X-Twilio-Signature": signature,
                        "Content-Type": "application/x-www-form-urlencoded"}}


def meta_post(body: Any, secret: str = APP_SECRET) -> dict[str, Any]:
    """Keyword arguments for client.post with X-Hub-Signature-256 over the exact bytes."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"content": raw, "headers": {"X-Hub-Signature-256": f"sha256={digest}",
                                        "Content-Type": "application/json"}}


async def seed_debtor(
    container: Container, *, now: datetime, phone: str = PHONE, region: str = "NY",
    timezone: str = "America/New_York", language: str = "en", channels: tuple[str, ...] = ("sms",),
    written_consent: bool = True, **flags: bool,
) -> tuple[int, int]:
    """A creditor, a debtor with contact points and one active account; (debtor id, account id).

    The debtor lives in Manhattan (10001), where reminders need written consent: given unless
    `written_consent` is False.
    """
    async with container.sessions.begin() as session:
        creditor = Creditor(name=f"Acme {now.timestamp()}-{phone}", created_at=now)
        session.add(creditor)
        await session.flush()
        from backend.db.models import Portfolio

        portfolio = Portfolio(creditor_id=creditor.id, name="Cards", policy={}, created_at=now)
        debtor = Debtor(full_name="Ana Lopez", date_of_birth=date(1985, 4, 2), postal_code="10001",
                        region=region, country="US", timezone=timezone,
                        preferred_language=language, created_at=now,
                        written_consent_at=now if written_consent else None)
        session.add_all([portfolio, debtor])
        await session.flush()
        account = Account(creditor_id=creditor.id, portfolio_id=portfolio.id, debtor_id=debtor.id,
                          external_ref="A-1", currency="USD", original_balance=Decimal("500.00"),
                          current_balance=Decimal("420.50"), due_date=date(2026, 10, 1),
                          created_at=now, updated_at=now, **flags)
        session.add(account)
        for channel in channels:
            address = phone if channel in ("sms", "whatsapp") else "777001"
            session.add(ContactPoint(debtor_id=debtor.id, channel=channel, address=address,
                                     consent=True, created_at=now))
        await session.flush()
        return debtor.id, account.id


async def messages(container: Container, direction: str | None = None) -> list[Message]:
    """Every message row in id order."""
    async with container.sessions() as session:
        query = select(Message).order_by(Message.id)
        if direction:
            query = query.where(Message.direction == direction)
        return list((await session.scalars(query)).all())


async def contact(container: Container, channel: str, address: str) -> ContactPoint | None:
    """The first contact point for an address."""
    async with container.sessions() as session:
        return await session.scalar(select(ContactPoint).where(
            ContactPoint.channel == channel, ContactPoint.address == address).limit(1))


class StubTurnHandler:
    """Stands in for the engine: marks the message processed and replies through the outbox."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.seen: list[int] = []

    async def __call__(self, message_id: int) -> None:
        container = self.container
        outbox = container.services["outbox"]
        async with container.sessions.begin() as session:
            message = await session.get(Message, message_id)
            assert message is not None
            conversation = await session.get(Conversation, message.conversation_id)
            assert conversation is not None
            self.seen.append(message_id)
            message.processed_at = container.clock.now()
            reply = OutboundMessage(
                key=ConversationKey(conversation.channel, conversation.address),
                text=f"Reply {len(self.seen)}", purpose=Purpose.REPLY,
                conversation_id=conversation.id, account_id=conversation.account_id,
                in_reply_to=message_id,
            )
            decision = await outbox.submit(session, reply)
        if decision.allowed and decision.message_id is not None:
            await outbox.send([decision.message_id])
