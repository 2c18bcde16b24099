"""Telegram deep links: signed, expiring, single-use `/start` tokens linking a chat to a debtor."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, AuditEvent, ContactPoint, Conversation
from backend.services import audit
from backend.services.handoff import SYSTEM_ACTOR, HandoffService
from backend.services.queues import load_queues
from bot.messages import ConversationKey

TOKEN_RE = re.compile(r"^[0-9a-f]+-[0-9a-f]+-[0-9a-f]{8}-[0-9a-f]{24}$")
DEFAULT_TTL = timedelta(days=14)
LINKED_ACTION = "telegram.linked"
REFUSED_ACTION = "telegram.link_refused"
OTHER_DEBTOR = "linked_to_other_debtor"


def make_token(secret: str, account_id: int, now: datetime, ttl: timedelta = DEFAULT_TTL) -> str:
    """An opaque token (<= 64 chars of [0-9a-f-]) naming nothing a forwarded link could leak."""
    expires = int((now + ttl).timestamp())
    head = f"{account_id:x}-{expires:x}-{secrets.token_hex(4)}"
    return f"{head}-{_sign(secret, head)}"


def read_token(secret: str, token: str, now: datetime) -> int | None:
    """The account id of a valid, unexpired token (None when forged, malformed or expired)."""
    # compliance.md E item 64: validate the payload shape before anything else.
    if len(token) > 64 or not TOKEN_RE.match(token):
        return None
    head, signature = token.rsplit("-", 1)
    if not hmac.compare_digest(signature, _sign(secret, head)):
        return None
    account_hex, expires_hex, _ = head.split("-")
    if int(expires_hex, 16) < now.timestamp():
        return None
    return int(account_hex, 16)


async def link_chat(
    session: AsyncSession, key: ConversationKey, token: str, secret: str, now: datetime,
    handoffs: HandoffService | None = None,
) -> int | None:
    """Link the chat to the token's debtor once; returns the account id, or None if refused.

    A chat already linked to another debtor is never re-linked: its verified identity is that
    debtor's, and a forwarded link must not open someone else's account to it.
    """
    account_id = read_token(secret, token, now)
    account = await session.get(Account, account_id) if account_id is not None else None
    if account is None or await _used(session, token):
        return None
    other = await _other_debtor(session, key, account.debtor_id)
    if other is not None:
        await _refuse(session, key, token, account, other, now, handoffs)
        return None
    existing = await session.scalar(select(ContactPoint).where(
        ContactPoint.debtor_id == account.debtor_id, ContactPoint.channel == key.channel,
        ContactPoint.address == key.address))
    if existing is None:
        session.add(ContactPoint(debtor_id=account.debtor_id, channel=key.channel,
                                 address=key.address, consent=True, created_at=now))
    await session.execute(
        update(Conversation).where(Conversation.channel == key.channel,
                                   Conversation.address == key.address)
        .values(debtor_id=account.debtor_id, account_id=account.id))
    await audit.record(session, occurred_at=now, actor="telegram", action=LINKED_ACTION,
                       subject_type="link_token", subject_id=_token_id(token),
                       data={"account_id": account.id})
    return account.id


async def _other_debtor(session: AsyncSession, key: ConversationKey, debtor_id: int
                        ) -> int | None:
    """A debtor other than `debtor_id` the chat already belongs to, if any."""
    by_contact = select(ContactPoint.debtor_id).where(
        ContactPoint.channel == key.channel, ContactPoint.address == key.address,
        ContactPoint.debtor_id != debtor_id)
    by_conversation = select(Conversation.debtor_id).where(
        Conversation.channel == key.channel, Conversation.address == key.address,
        Conversation.debtor_id != debtor_id)
    found: int | None = await session.scalar(by_contact.union_all(by_conversation).limit(1))
    return found


async def _refuse(
    session: AsyncSession, key: ConversationKey, token: str, account: Account, other: int,
    now: datetime, handoffs: HandoffService | None,
) -> None:
    """Audit the refusal (the token stays unused) and let a person read the chat."""
    await audit.record(session, occurred_at=now, actor="telegram", action=REFUSED_ACTION,
                       subject_type="link_token", subject_id=_token_id(token),
                       data={"account_id": account.id, "reason": OTHER_DEBTOR,
                             "linked_debtor_id": other})
    conversation_id = await session.scalar(
        select(Conversation.id).where(Conversation.channel == key.channel,
                                      Conversation.address == key.address)
        .order_by(Conversation.id.desc()).limit(1))
    if conversation_id is None:
        return
    service = handoffs or HandoffService(load_queues())
    await service.open_handoff(
        session, conversation_id, "telegram_link_refused", now=now, actor=SYSTEM_ACTOR,
        note=f"a /start link for account {account.id}, another debtor's; not linked")


async def _used(session: AsyncSession, token: str) -> bool:
    found = await session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == LINKED_ACTION, AuditEvent.subject_id == _token_id(token)).limit(1))
    return found is not None


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def _sign(secret: str, head: str) -> str:
    return hmac.new(secret.encode(), f"telegram-start|{head}".encode(), hashlib.sha256
                    ).hexdigest()[:24]
