"""Greetings, thanks and goodbyes: short, friendly, and a way forward."""

from __future__ import annotations

from bot.dialogs.base import MENU, Outcome


def greet(out: Outcome) -> Outcome:
    """Hello back, with what the bot can do (the debtor is verified here); a yes after it
    answers no offer read back before it."""
    out.state.drop_offer()
    return out.say("greet.verified", choices=MENU)


def thanks(out: Outcome) -> Outcome:
    """You're welcome."""
    return out.say("thanks.reply")


def goodbye(out: Outcome) -> Outcome:
    """Close politely and forget any pending offer."""
    out.state.clear_table()
    return out.say("goodbye.reply")
