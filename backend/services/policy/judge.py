"""The policy as the dialogs see it (bot.facts.OfferJudge), and the knobs they read."""

from __future__ import annotations

from dataclasses import dataclass

from backend.services.policy import offers, rules
from backend.services.policy.model import Policy
from bot.facts import Answer, DialogPolicy, Offer, Request, Terms, Verdict


@dataclass(frozen=True)
class PolicyJudge:
    """Judges, generates and counters offers under one policy, for accounts in one currency.

    Amounts are whole minor units of `currency` (ISO 4217: JPY in yen, USD in cents, BHD in
    fils); without one, in cents.
    """

    policy: Policy
    currency: str | None = None

    def check(self, offer: Offer, terms: Terms) -> Verdict:
        """The one decision (see `rules.evaluate`)."""
        return rules.evaluate(self.policy, offer, terms, currency=self.currency)

    def proposals(self, terms: Terms) -> list[Offer]:
        """Payment in full first, then plans."""
        return offers.proposals(self.policy, terms, self.currency)

    def answer(self, kind: str, request: Request, terms: Terms) -> Answer:
        """The request, or the nearest allowed offer."""
        return offers.answer(self.policy, kind, request, terms, self.currency)


def dialog_policy(policy: Policy) -> DialogPolicy:
    """The non-monetary knobs the dialogs need."""
    return DialogPolicy(
        verification_factors=tuple(policy.verification.factors),
        min_verification_factors=policy.verification.required,
        max_verification_attempts=policy.verification.max_attempts,
        verified_ttl_minutes=policy.verification.verified_ttl_minutes,
        reference_digits=policy.verification.reference_digits,
        max_rounds=policy.negotiation.max_rounds,
        hardship_handoff=policy.hardship.handoff,
        hardship_pause_days=policy.hardship.pause_days,
        max_promise_moves=policy.promise.max_moves,
        wording=policy.wording,
    )
