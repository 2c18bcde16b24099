"""The ports the engine drives; the backend implements them (the engine knows no SQL or HTTP)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.effects import Effect
from bot.facts import Facts
from bot.messages import ConversationKey, OutboundMessage
from nlu.types import Parse


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


@dataclass(frozen=True)
class TurnContext:
    """The stored inbound message a turn answers, and what the backend knows around it."""

    message_id: int
    conversation_id: int
    key: ConversationKey
    text: str
    received_at: datetime
    account_id: int | None
    facts: Facts | None
    ownership: str = "bot"  # bot | queued | agent | resolved
    timezone: str | None = None
    processed: bool = False
    choice_value: str | None = None  # a pressed button's data; `text` is its label


class TurnUnit(Protocol):
    """One turn's unit of work: everything in it commits together, or not at all."""

    context: TurnContext

    async def record_parse(self, parse: Parse | None) -> None:
        """Store what the NLU understood on the inbound message.

        None: the message answered an identity question (a date of birth, a ZIP code), so it
        carries no intent, and is neither counted in the NLU's figures nor shown to trainers.
        """
        ...

    async def apply(self, effects: Sequence[Effect]) -> dict[str, Any]:
        """Apply the dialog's effects; returns outputs replies may use (e.g. `url`)."""
        ...

    async def submit(self, outbound: OutboundMessage) -> OutboxDecision:
        """Gate and store one reply (sent after commit)."""
        ...

    async def finish(self, summary: Mapping[str, Any]) -> None:
        """Mark the inbound processed and write the turn's audit record."""
        ...


class TurnStore(Protocol):
    """Where turns load their facts and apply their effects (the backend implements it)."""

    async def locate(self, message_id: int) -> int | None:
        """The conversation of an inbound message, or None when there is no such message."""
        ...

    def open(self, message_id: int) -> AbstractAsyncContextManager[TurnUnit]:
        """A unit of work for the turn answering `message_id`; commits on a clean exit."""
        ...
