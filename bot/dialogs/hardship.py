"""Hardship: acknowledge with care, offer what the policy allows, or a person."""

from __future__ import annotations

from dataclasses import replace

from bot.dialogs.base import Outcome, Turn
from bot.dialogs.handoff import hand_off
from bot.dialogs.negotiation import judge_of, present_options, terms_for
from bot.effects import SetHardship
from bot.facts import Facts, Offer, Request


def hardship(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """Record the hardship; offer the smallest plan and a pause, or hand off per policy."""
    out.do(SetHardship(turn.text))
    if facts.policy.hardship_handoff:
        return hand_off(out, "hardship", key="hardship.handoff", queue="hardship", priority=1)
    return present_options(out, facts, hardship_options(facts), "hardship.options")


def hardship_options(facts: Facts) -> list[Offer]:
    """The most affordable hardship plan and a pause (an extension under hardship bounds)."""
    terms = replace(facts.terms, hardship=True)
    judge = judge_of(facts)
    plans = [o for o in judge.proposals(terms) if o.kind == "plan"]
    # A pause is for what pending promises leave, as any extension.
    rest = replace(terms_for(facts, kind="extension"), hardship=True)
    pause = judge.answer("extension", Request(), rest).offer if rest.balance > 0 else None
    return [*plans[-1:], *([pause] if pause else [])]
