"""Hardship: acknowledge with care, offer what the policy allows, or a person."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from bot.dialogs.base import Outcome, Turn
from bot.dialogs.handoff import hand_off
from bot.dialogs.negotiation import judge_of, present_options, terms_for
from bot.effects import SetHardship
from bot.facts import Facts, Offer, Request

# Circumstances that make asking for more time a hardship (docs/TAXONOMY.md: "I can't pay"
# with a circumstance is hardship): English and Spanish, accents already dropped.
_CIRCUMSTANCE = re.compile(r"\b(?:" + "|".join((
    r"lost (?:my|his|her|our) (?:job|work|income)", r"laid off", r"(?:got|been|was) fired",
    r"unemployed", r"out of work", r"no (?:job|income|work)", r"hospital\w*", r"surgery",
    r"illness", r"cancer", r"chemo\w*", r"disabilit\w*", r"injur\w*", r"divorc\w*",
    r"passed away", r"funeral", r"death in (?:the|my) family", r"evict\w*",
    r"perdi (?:mi|el) (?:trabajo|empleo|chamba)", r"me quede sin (?:trabajo|empleo|chamba)",
    r"me (?:despidieron|corrieron)", r"desemplead[oa]", r"sin (?:trabajo|empleo|ingresos)",
    r"enferm\w*", r"cirugia", r"operacion", r"accidente", r"incapacidad",
    r"fallec\w*", r"murio", r"desalo\w*",
)) + r")\b")
# Readings the circumstance turns into a hardship: more time without a day to pay on.
MORE_TIME = frozenset({"request_extension"})


def as_hardship(turn: Turn) -> Turn:
    """"I need more time, I lost my job" asks for what a hardship gives (a pause, the smallest
    plan, the hardship hold on reminders), not for a later due date."""
    if turn.intent not in MORE_TIME or turn.date() is not None:
        return turn
    plain = unicodedata.normalize("NFKD", turn.text).encode("ascii", "ignore").decode().lower()
    return replace(turn, intent="hardship") if _CIRCUMSTANCE.search(plain) else turn


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
