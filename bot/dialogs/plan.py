"""Payment plans: lead with payment in full, then the plans that fit; answer counter-offers."""

from __future__ import annotations

from bot.dialogs.base import Outcome, Turn
from bot.dialogs.negotiation import (
    judge_of,
    note_ask,
    present,
    present_options,
    request_of,
    terms_for,
)
from bot.facts import Facts


def request_plan(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """The debtor's own plan when they named one, else the policy's options."""
    if turn.installments() or turn.frequency() or turn.amount():
        asked = request_of(turn)
        note_ask(out, "plan", asked)
        return present(out, facts, judge_of(facts).answer("plan", asked, terms_for(facts)))
    return offer_options(out, facts)


def offered(turn: Turn) -> bool:
    """An amount every period ("i can pay 75/month", "50 cada quincena"): a plan of that
    amount each time, whatever payment intent the NLU chose, not a one-off promise."""
    return turn.amount() is not None and turn.frequency() is not None


def offer_options(out: Outcome, facts: Facts) -> Outcome:
    """Pay in full, the shortest plan and the most affordable plan, as choices."""
    return present_options(out, facts, judge_of(facts).proposals(terms_for(facts)), "plan.options")
