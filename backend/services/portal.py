"""The debtor portal's personal links: signed, single-account, expiring `/p/{token}`."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

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
