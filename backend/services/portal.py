"""The debtor portal: its signed, single-account, expiring links `/p/{token}`, and its visitors."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, ContactPoint, Conversation
from backend.db.models.enums import Channel, Ownership
from backend.services.row_locks import ADDRESS_LOCK
from backend.services.signing import TokenSigner
from bot.clock import Clock

PORTAL_LIFETIME = timedelta(days=30)


class _HasId(Protocol):
    id: int


class PortalLinks:
    """Makes and reads portal links (`container.services["portal_links"]`)."""

    def __init__(self, secret: str, base_url: str, clock: Clock,
                 lifetime: timedelta = PORTAL_LIFETIME) -> None:
        self.signer = TokenSigner(secret, "parley.portal", clock, lifetime)
        self.base_url = base_url.rstrip("/")

    def token_for(self, account_id: int) -> str:
        """A fresh token for one account."""
        return self.signer.sign({"a": account_id})

    def url_for(self, account: _HasId) -> str:
        """A fresh portal URL for `account`."""
        return f"{self.base_url}/p/{self.token_for(account.id)}"

    def account_id(self, token: str) -> int | None:
        """The account a valid token opens, else None."""
        data = self.signer.read(token)
        return int(data["a"]) if data and isinstance(data.get("a"), int) else None


# Who is reading: a random secret in an HttpOnly cookie, one per browser. The portal's
# conversation (its dialog state, so its verification) is that browser's, not the account's:
# a link is not proof of who reads it, and links travel (a forwarded SMS, a shared phone).
VISITOR_COOKIE = "parley_portal"
VISITOR_PATH = "/p"
VISITOR_LIFETIME = timedelta(hours=12)
_VISITOR = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
WEB = Channel.WEB.value


def new_visitor() -> str:
    """A fresh visitor secret for the cookie."""
    return secrets.token_urlsafe(32)


def read_visitor(raw: str | None) -> str | None:
    """The visitor secret a cookie holds; None when absent or not shaped like one we issue."""
    return raw if raw and _VISITOR.fullmatch(raw) else None


def visitor_address(account_id: int, visitor: str) -> str:
    """The web conversation address of one visitor on one account.

    It holds a digest of the secret, never the secret: the address is shown to staff and
    written to logs, and must not let anyone who reads it take over the verified chat.
    """
    digest = hashlib.sha256(visitor.encode()).hexdigest()[:32]
    return f"account:{account_id}:session:{digest}"


def _portal_address(column: Any, account_id: int) -> Any:
    """`column` is one of the account's portal addresses: a visitor's or the one shared
    before visitors had their own."""
    return or_(column == f"account:{account_id}", column.like(f"account:{account_id}:session:%"))


async def visitor_conversation(session: AsyncSession, account_id: int, visitor: str
                               ) -> Conversation | None:
    """The visitor's conversation on the account, None before their first message."""
    found: Conversation | None = await session.scalar(
        select(Conversation).where(Conversation.channel == WEB,
                                   Conversation.address == visitor_address(account_id, visitor),
                                   Conversation.account_id == account_id)
        .order_by(Conversation.id.desc()).limit(1))
    return found


async def open_conversation(session: AsyncSession, account: Account, visitor: str,
                            now: datetime) -> Conversation:
    """The visitor's conversation on `account`, opened (linked to the account) when new.

    Opened here, not by the inbox, since the inbox links only the shared `account:<id>`
    address; one opened linked is found by it as it is.
    """
    address = visitor_address(account.id, visitor)
    if session.get_bind().dialect.name == "postgresql":  # one browser's first two messages
        await session.execute(ADDRESS_LOCK, {"channel": WEB, "address": address})
    found = await visitor_conversation(session, account.id, visitor)
    if found is not None:
        return found
    conversation = Conversation(channel=WEB, address=address, debtor_id=account.debtor_id,
                                account_id=account.id, ownership=Ownership.BOT,
                                started_at=now, last_message_at=now)
    session.add(conversation)
    await _carry_opt_out(session, account, address, now)
    await session.flush()
    return conversation


async def _carry_opt_out(session: AsyncSession, account: Account, address: str,
                         now: datetime) -> None:
    """A STOP typed in the portal holds for the account's next visitors too.

    The gate reads opt-outs by address, and each visitor has their own: the newest word on
    the account's portal addresses (an opt-out, else a contact point made later, which a
    START has lifted since) is copied to the new one.
    """
    latest = await session.scalar(
        select(ContactPoint)
        .where(ContactPoint.channel == WEB, _portal_address(ContactPoint.address, account.id))
        .order_by(func.coalesce(ContactPoint.opted_out_at, ContactPoint.created_at).desc(),
                  ContactPoint.id.desc()).limit(1))
    if latest is None or latest.opted_out_at is None:
        return
    session.add(ContactPoint(debtor_id=account.debtor_id, channel=WEB, address=address,
                             consent=False, opted_out_at=latest.opted_out_at,
                             opt_out_reason=latest.opt_out_reason, created_at=now))


