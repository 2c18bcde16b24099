"""The NLU result types and the Interpreter role every NLU backend plays."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

INTENTS: tuple[str, ...] = (
    "greet",
    "goodbye",
    "affirm",
    "deny",
    "thanks",
    "ask_balance",
    "ask_who",
    "pay_in_full",
    "pay_partial",
    "promise_to_pay",
    "request_extension",
    "request_payment_plan",
    "counter_offer",
    "already_paid",
    "dispute_debt",
    "hardship",
    "wrong_person",
    "opt_out",
    "request_agent",
    "attorney_represented",
    "bankruptcy",
    "deceased",
    "ask_payment_methods",
    "complaint",
    "out_of_scope",
)
ENTITY_TYPES: tuple[str, ...] = ("amount", "date", "installments", "frequency")
OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class IntentScore:
    """One intent with its calibrated confidence."""

    name: str
    confidence: float


@dataclass(frozen=True)
class Entity:
    """An entity found in the text, with its normalized value.

    `value` is normalized: amount "50.00", date "2026-11-27", installments "6",
    frequency "weekly". `currency` is set for amounts when stated (ISO-4217).
    """

    entity: str
    value: str
    start: int
    end: int
    text: str
    extractor: str = "parley"
    currency: str | None = None


@dataclass(frozen=True)
class Parse:
    """What the NLU understood of one message."""

    text: str
    intent: IntentScore
    ranking: tuple[IntentScore, ...] = ()
    entities: tuple[Entity, ...] = ()
    language: str | None = None
    model_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def first(self, entity: str) -> Entity | None:
        """The first entity of a type, or None."""
        return next((e for e in self.entities if e.entity == entity), None)

    def to_rasa(self) -> dict[str, Any]:
        """Rasa's /model/parse response shape."""
        return {
            "text": self.text,
            "intent": {"name": self.intent.name, "confidence": self.intent.confidence},
            "intent_ranking": [{"name": s.name, "confidence": s.confidence} for s in self.ranking],
            "entities": [
                {
                    "entity": e.entity,
                    "value": e.value,
                    "start": e.start,
                    "end": e.end,
                    "extractor": e.extractor,
                    **({"currency": e.currency} if e.currency else {}),
                }
                for e in self.entities
            ],
        }


class Interpreter(Protocol):
    """Reads a message: intent, confidence, ranking and normalized entities."""

    async def parse(
        self, text: str, *, reference_time: datetime, timezone: str | None = None,
        language: str | None = None,
    ) -> Parse:
        """Interpret `text`; relative dates resolve against `reference_time` in `timezone`.

        `language` is the conversation's; it reads entities ("03/04" day first in Spanish) in a
        message whose own words show no language. `Parse.language` stays the message's own.
        """
        ...
