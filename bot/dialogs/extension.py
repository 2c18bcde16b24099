"""More time: the balance by a later day, no later than the policy's extension allows."""

from __future__ import annotations

from bot.dialogs.base import Outcome, Turn
from bot.dialogs.negotiation import covered, judge_of, present, request_of, terms_for
from bot.facts import Facts


def request_extension(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """Offer the requested day when allowed, else the latest day the policy allows, for
    what pending promises leave of the balance (they stand, and the debtor is told so)."""
    terms = terms_for(facts, kind="extension")
    if terms.balance <= 0:
        return covered(out, facts)
    return present(out, facts, judge_of(facts).answer("extension", request_of(turn), terms))
