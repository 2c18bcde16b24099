"""More time: the balance by a later day, no later than the policy's extension allows."""

from __future__ import annotations

from bot.dialogs.base import Outcome, Turn
from bot.dialogs.negotiation import judge_of, present, request_of, terms_for
from bot.facts import Facts


def request_extension(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """Offer the requested day when allowed, else the latest day the policy allows."""
    answer = judge_of(facts).answer("extension", request_of(turn), terms_for(facts))
    return present(out, facts, answer)
