"""Transcript helpers: debtor says X → bot replies keys Y → effects Z, with no storage at all."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from backend.services.policy import Policy, PolicyJudge, dialog_policy, load_policy_file
from bot.dialogs import router
from bot.dialogs.base import DialogState, Outcome, Turn
from bot.facts import Facts, Identity
from bot.responses import RenderContext, Renderer

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
DOB = date(1985, 3, 14)
RENDERER = Renderer()
DEFAULT_POLICY = load_policy_file(Path(__file__).parents[2] / "backend/policies/default.yml")


def make_facts(policy: Policy | None = None, **overrides: Any) -> Facts:
    """A verified-able account: $1,200.00 at Acme Bank, 95 days past due."""
    policy = policy or DEFAULT_POLICY
    base = Facts(
        account_id=1, creditor="Acme Bank", reference="ACME-000123456", currency="USD",
        balance=Decimal("1200.00"), days_past_due=95, today=T0.date(),
        identity=Identity(DOB, "10001", "ACME-000123456"),
        policy=dialog_policy(policy), judge=PolicyJudge(policy),
    )
    return replace(base, **overrides)


@dataclass
class Transcript:
    """Plays a conversation against the dialogs alone."""

    facts: Facts | None
    now: datetime = T0
    state: DialogState = field(default_factory=DialogState)
    outcomes: list[Outcome] = field(default_factory=list)

    def says(self, text: str, intent: str, **entities: str) -> Outcome:
        """One debtor message, already interpreted."""
        turn = Turn(text, intent, self.now, entities=dict(entities))
        out = router.step(self.state, turn, self.facts)
        self.state = out.state
        self.outcomes.append(out)
        return out

    def verify(self) -> Outcome:
        """Pass verification with the default factors (date of birth, then ZIP)."""
        self.says("hi", "greet")
        self.says("03/14/1985", "out_of_scope")
        return self.says("10001", "out_of_scope")

    def later(self, delta: timedelta) -> None:
        """Time passes."""
        self.now += delta


def keys(out: Outcome) -> list[str]:
    """The response keys the bot replied with."""
    return [s.reply.key for s in out.said]


def effects(out: Outcome) -> list[str]:
    """The effect types, in order."""
    return [type(e).__name__ for e in out.effects]


def texts(out: Outcome, facts: Facts, locale: str = "en", channel: str = "sms") -> list[str]:
    """The replies as the debtor would read them (disclosures excluded)."""
    results = {"url": "https://pay.example/x"}
    return [
        RENDERER.render(s, RenderContext(locale=locale, currency=facts.currency,
                                         channel=channel, results=results)).text
        for s in out.said
    ]
