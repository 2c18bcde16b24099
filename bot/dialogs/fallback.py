"""When the bot does not understand: clarify once with choices, then hand off instead of looping."""

from __future__ import annotations

from bot.dialogs.base import MENU, Outcome
from bot.dialogs.handoff import hand_off
from bot.facts import Facts

MAX_CLARIFY = 1


def clarify(out: Outcome) -> Outcome:
    """Ask once what the debtor means; the second miss in a row goes to a person."""
    if out.state.clarified >= MAX_CLARIFY:
        out.state.clarified = 0
        return hand_off(out, "not_understood", key="fallback.handoff")
    out.state.clarified += 1
    out.state.drop_offer()  # the menu is the question now: a "yes" after it accepts nothing
    return out.say("fallback.clarify", choices=MENU)


def stale_choice(out: Outcome, facts: Facts | None, *, verified: bool) -> Outcome:
    """A button pressed on an older message: say that choice is closed and what stands now
    (the plan set, or the latest choices, which stay open)."""
    if verified and facts is not None and facts.active_plan:
        return out.say("stale.plan_set", debt=True)
    if out.state.choices:
        return out.say("stale.latest")
    return out.say("stale.closed", choices=MENU if verified else ())


def unknown_sender(out: Outcome) -> Outcome:
    """An address we cannot link to anyone: say nothing about any debt, let a person look."""
    if out.state.introduced:
        return out
    out.state.introduced = True
    return hand_off(out, "unknown_sender", key="unknown.sender", queue="unmatched")
