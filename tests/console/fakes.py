"""A recording outbox for console tests (the lead switches to the real SMS path at integration)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Conversation, Message
from backend.db.models.enums import DeliveryStatus, Direction
from backend.services.delivery import set_envelope
from bot.clock import Clock
from bot.messages import OutboundMessage
from bot.ports import OutboxDecision


@dataclass
class RecordingOutbox:
    """Implements bot.ports.Outbox: stores each message, then records it as sent.

    `refuse_with` makes the "gate" block every message with that reason.
    """

    clock: Clock
    refuse_with: str | None = None
    submitted: list[OutboundMessage] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)

    async def submit(self, session: AsyncSession, outbound: OutboundMessage) -> OutboxDecision:
        self.submitted.append(outbound)
        conversation = await session.get(Conversation, outbound.conversation_id)
        assert conversation is not None
        status = "blocked" if self.refuse_with else "pending"
        message = Message(
            conversation_id=conversation.id, direction=Direction.OUTBOUND,
            channel=outbound.key.channel, sender=outbound.sender[:16], text=outbound.text,
            intent=outbound.purpose.value, delivery_status=status,
            error_code=self.refuse_with, created_at=self.clock.now(),
        )
        set_envelope(message, {"idempotency_key": outbound.idempotency_key,
                               "discusses_debt": outbound.discusses_debt,
                               "language": outbound.language})
        session.add(message)
        await session.flush()
        return OutboxDecision(message.id, status, self.refuse_with)

    async def send(self, message_ids: list[int]) -> None:
        self.sent.extend(message_ids)


def sent_status() -> str:
    """The status the fake gives a message it accepted."""
    return DeliveryStatus.PENDING.value
