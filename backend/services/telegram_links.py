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
from bot.messages import ConversationKey

TOKEN_RE = re.compile(r"^[0-9a-f]+-[0-9a-f]+-[0-9a-f]{8}-[0-9a-f]{24}$")
DEFAULT_TTL = timedelta(days=14)
LINKED_ACTION = "telegram.linked"


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
    session: AsyncSession, key: ConversationKey, token: str, secret: str, now: datetime
) -> int | None:
    """Link the chat to the token's debtor once; returns the account id, or None if refused."""
    account_id = read_token(secret, token, now)
    account = await session.get(Account, account_id) if account_id is not None else None
    if account is None or await _used(session, token):
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


async def _used(session: AsyncSession, token: str) -> bool:
    found = await session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == LINKED_ACTION, AuditEvent.subject_id == _token_id(token)).limit(1))
    return found is not None


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def _sign(secret: str, head: str) -> str:
    return hmac.new(secret.encode(), f"telegram-start|{head}".encode(), hashlib.sha256
                    ).hexdigest()[:24]
