"""Signed, single-account, expiring payment links for an exact amount."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Conversation, Message
from backend.db.models.enums import Direction
from backend.services.geo import debtor_zone
from backend.services.signing import TokenSigner
from bot.clock import Clock

LINK_LIFETIME = timedelta(days=7)
# Days a link given for a due date still opens after that day, when no grace is given.
DUE_GRACE_DAYS = 3
SALT = "parley.pay"


@dataclass(frozen=True)
class PaymentLink:
    """What a payment link pays: one account, one amount; `nonce` makes it single-use."""

    account_id: int
    amount: Decimal
    nonce: str
    # The conversation channel it was issued for; None when the issuer did not say.
    channel: str | None = None

    @property
    def reference(self) -> str:
        """The payer reference a payment through this link is recorded under."""
        return f"link:{self.nonce}"


class PaymentLinks:
    """Makes and reads `/pay/{token}` links."""

    def __init__(self, secret: str, base_url: str, clock: Clock,
                 lifetime: timedelta = LINK_LIFETIME) -> None:
        self.signer = TokenSigner(secret, SALT, clock, lifetime)
        self.base_url = base_url.rstrip("/")
        self._secret = secret

    def url_for(
        self,
        account_id: int,
        amount: Decimal,
        *,
        channel: str | None = None,
        due: date | None = None,
        timezone: str | None = None,
        grace_days: int | None = None,
    ) -> str:
        """A fresh link for `amount` on one account, sent on `channel` when given; one given
        for a `due` date opens until then (`lifetime_for`)."""
        payload: dict[str, Any] = {"a": account_id, "m": str(amount), "n": secrets.token_hex(8)}
        if channel:
            payload["c"] = channel
        signer = self.signer
        if due is not None:
            lifetime = self.lifetime_for(due, timezone, grace_days)
            signer = TokenSigner(self._secret, SALT, self.signer.clock, lifetime)
        return f"{self.base_url}/pay/{signer.sign(payload)}"

    def lifetime_for(self, due: date, timezone: str | None, grace_days: int | None) -> timedelta:
        """How long a link given for `due` opens: to the end of that day in the debtor's
        calendar plus the grace days (DUE_GRACE_DAYS when None), never less than usual."""
        grace = DUE_GRACE_DAYS if grace_days is None else max(grace_days, 0)
        day_after = due + timedelta(days=grace + 1)
        closes = datetime.combine(day_after, time.min, tzinfo=debtor_zone(timezone))
        return max(self.signer.lifetime, closes - self.signer.clock.now())

    def read(self, token: str) -> PaymentLink | None:
        """The link a valid token stands for, else None."""
        data = self.signer.read(token)
        if not data:
            return None
        channel = data.get("c")
        try:
            return PaymentLink(int(data["a"]), Decimal(str(data["m"])), str(data["n"]),
                               channel if isinstance(channel, str) else None)
        except (KeyError, ValueError, InvalidOperation):
            return None


async def channel_of(session: AsyncSession, link: PaymentLink, token: str) -> str | None:
    """The channel `link` was issued for: its own claim, else the channel of the latest
    message of the account's conversations that carried it; None when neither says."""
    if link.channel is not None:
        return link.channel
    # Bot replies and agents' links are stored whole as the message that sent them, so
    # links minted without a channel still name where they went.
    carried: str | None = await session.scalar(
        select(Message.channel).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.account_id == link.account_id,
               Message.direction == Direction.OUTBOUND,
               Message.text.contains(f"/pay/{token}", autoescape=True))
        .order_by(Message.id.desc()).limit(1))
    return carried
