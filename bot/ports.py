"""The ports the engine drives; the backend implements them (the engine knows no SQL or HTTP)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.messages import OutboundMessage


@dataclass(frozen=True)
class OutboxDecision:
    """What the compliance gate decided for one outbound message, and where it was stored."""

    message_id: int | None
    status: str  # "pending" (will be sent), "deferred" (sent at not_before), "blocked"
    reason: str | None = None
    not_before: datetime | None = None

    @property
    def allowed(self) -> bool:
        """True when the message will be sent now."""
        return self.status == "pending"


class Outbox(Protocol):
    """Gate, persist and (after commit) send outbound messages."""

    async def submit(self, session: Any, outbound: OutboundMessage) -> OutboxDecision:
        """Run the compliance gate and store the message inside the caller's transaction."""
        ...

    async def send(self, message_ids: list[int]) -> None:
        """Send stored pending messages through their channel (call after commit)."""
        ...
