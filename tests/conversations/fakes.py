"""First-class test fakes: a collecting outbox and a tiny deterministic interpreter."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.messages import OutboundMessage
from bot.ports import OutboxDecision
from nlu.types import Entity, IntentScore, Parse


@dataclass
class CollectingOutbox:
    """Records every OutboundMessage and lets it through (like Rasa's CollectingOutputChannel)."""

    messages: list[OutboundMessage] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)

    async def submit(self, session: Any, outbound: OutboundMessage) -> OutboxDecision:
        self.messages.append(outbound)
        return OutboxDecision(len(self.messages), "pending")

    async def send(self, message_ids: list[int]) -> None:
        self.sent.extend(message_ids)

    @property
    def texts(self) -> list[str]:
        """What the debtor would have read, in order."""
        return [m.text for m in self.messages]


RULES: tuple[tuple[str, str], ...] = (
    (r"\b(lawyer|attorney)\b", "attorney_represented"),
    (r"\bbankrupt", "bankruptcy"),
    (r"\b(passed away|died)\b", "deceased"),
    (r"\bwrong number\b", "wrong_person"),
    (r"\bstop texting\b|\bno texts\b", "opt_out"),
    (r"\bnot my debt\b", "dispute_debt"),
    (r"\bhow much\b|\bbalance\b|\bcuánto\b", "ask_balance"),
    (r"\bplan\b|\bpagos\b", "request_payment_plan"),
    (r"\bpromise\b|\bwill pay\b|\bI'll pay\b", "promise_to_pay"),
    (r"\bpay (it )?all\b|\bpay in full\b", "pay_in_full"),
    (r"^(yes|ok|sí)\b", "affirm"),
    (r"^no\b", "deny"),
    (r"\bhuman\b|\bperson\b", "request_agent"),
    (r"^(hi|hello|hola)\b", "greet"),
    (r"\bexplode\b", "explode"),
)


class RuleInterpreter:
    """Regex rules to intents; `amount` and ISO `date` entities from the text."""

    async def parse(self, text: str, *, reference_time: datetime,
                    timezone: str | None = None, language: str | None = None) -> Parse:
        intent = next((i for pattern, i in RULES if re.search(pattern, text, re.I)),
                      "out_of_scope")
        if intent == "explode":
            raise RuntimeError("interpreter blew up")
        entities = []
        amount = re.search(r"\$(\d+(?:\.\d{2})?)", text)
        if amount:
            value = f"{float(amount.group(1)):.2f}"
            entities.append(Entity("amount", value, amount.start(), amount.end(), amount.group()))
        day = re.search(r"\d{4}-\d{2}-\d{2}", text)
        if day:
            entities.append(Entity("date", day.group(), day.start(), day.end(), day.group()))
        language = "es" if re.search(r"\b(hola|cuánto|sí|pagos)\b", text, re.I) else "en"
        return Parse(text, IntentScore(intent, 0.9), entities=tuple(entities), language=language)
