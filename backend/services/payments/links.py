"""Signed, single-account, expiring payment links for an exact amount."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Conversation, Message
from backend.db.models.enums import Direction
from backend.services.signing import TokenSigner
from bot.clock import Clock

LINK_LIFETIME = timedelta(days=7)


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
        self.signer = TokenSigner(secret, "parley.pay", clock, lifetime)
        self.base_url = base_url.rstrip("/")

    def url_for(self, account_id: int, amount: Decimal, *, channel: str | None = None) -> str:
        """A fresh link for `amount` on one account, sent on `channel` when given."""
        payload: dict[str, Any] = {"a": account_id, "m": str(amount), "n": secrets.token_hex(8)}
        if channel:
            payload["c"] = channel
        return f"{self.base_url}/pay/{self.signer.sign(payload)}"

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
