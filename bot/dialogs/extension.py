"""More time: the balance by a later day, no later than the policy's extension allows."""

from __future__ import annotations

from bot.dialogs.base import Outcome, Turn
from bot.dialogs.negotiation import covered, judge_of, note_ask, present, request_of, terms_for
from bot.facts import Facts


def request_extension(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """Offer the requested day when allowed, else the latest day the policy allows, for
    what pending promises leave of the balance (they stand, and the debtor is told so);
    today is paying today, and a day already past is asked again."""
    terms = terms_for(facts, kind="extension")
    if terms.balance <= 0:
        return covered(out, facts)
    asked = request_of(turn)
    note_ask(out, "extension", asked)  # a handoff note leads with the day the debtor asked
    if asked.due is not None and asked.due < terms.today:
        return _ask_day(out)
    # A day that is today comes back as a promise due today: paying now, read back as such.
    return present(out, facts, judge_of(facts).answer("extension", asked, terms))


def _ask_day(out: Outcome) -> Outcome:
    """A day already past: ask for another (the next day named answers this request)."""
    out.state.clear_table()
    out.state.flow = "counter:extension"
    return out.say("extension.ask_date", debt=True)
