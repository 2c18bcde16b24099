"""Signed, expiring tokens measured on Parley's clock (so sandbox time travel expires them too)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from bot.clock import Clock

# Numbers in a payload are ids and times, 64-bit in the database: a larger one (a forged token)
# would overflow the driver (a 500) instead of being a link that opens nothing.
INT64 = range(-(2**63), 2**63)


class TokenSigner:
    """Signs small JSON payloads with an expiry; refuses tampered or expired tokens."""

    def __init__(self, secret: str, salt: str, clock: Clock, lifetime: timedelta) -> None:
        self._serializer = URLSafeSerializer(secret, salt=salt)
        self.clock = clock
        self.lifetime = lifetime

    def sign(self, payload: dict[str, Any]) -> str:
        """A token carrying `payload` until now + lifetime."""
        expires = int((self.clock.now() + self.lifetime).timestamp())
        return str(self._serializer.dumps({**payload, "exp": expires}))

    def read(self, token: str) -> dict[str, Any] | None:
        """The payload, or None when the token is forged, malformed or expired."""
        try:
            data = self._serializer.loads(token)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not all(map(_in_range, data.values())):
            return None
        expires = data.get("exp")
        if not isinstance(expires, int) or expires < self.clock.now().timestamp():
            return None
        return data


def _in_range(value: Any) -> bool:
    return not isinstance(value, int) or value in INT64
