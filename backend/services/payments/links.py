"""Signed, single-account, expiring payment links for an exact amount."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from backend.services.signing import TokenSigner
from bot.clock import Clock

LINK_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class PaymentLink:
    """What a payment link pays: one account, one amount; `nonce` makes it single-use."""

    account_id: int
    amount: Decimal
    nonce: str

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

    def url_for(self, account_id: int, amount: Decimal) -> str:
        """A fresh link for `amount` on one account."""
        token = self.signer.sign({"a": account_id, "m": str(amount), "n": secrets.token_hex(8)})
        return f"{self.base_url}/pay/{token}"

    def read(self, token: str) -> PaymentLink | None:
        """The link a valid token stands for, else None."""
        data = self.signer.read(token)
        if not data:
            return None
        try:
            return PaymentLink(int(data["a"]), Decimal(str(data["m"])), str(data["n"]))
        except (KeyError, ValueError, InvalidOperation):
            return None
