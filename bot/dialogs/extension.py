"""More time: the balance by a later day, no later than the policy's extension allows."""

from __future__ import annotations

from bot.dialogs.base import Outcome, Turn
from bot.dialogs.negotiation import covered, judge_of, note_ask, present, request_of, terms_for
from bot.facts import Facts


def request_extension(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """Offer the requested day when allowed, else the latest day the policy allows, for
    what pending promises leave of the balance (they stand, and the debtor is told so)."""
    terms = terms_for(facts, kind="extension")
    if terms.balance <= 0:
        return covered(out, facts)
    asked = request_of(turn)
    note_ask(out, "extension", asked)  # a handoff note leads with the day the debtor asked
    return present(out, facts, judge_of(facts).answer("extension", asked, terms))
