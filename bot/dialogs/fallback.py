"""When the bot does not understand: clarify once with choices, then hand off instead of looping."""

from __future__ import annotations

from bot.dialogs.base import ASKED, MENU, OFFER_FLOWS, DialogState, Outcome, Turn
from bot.dialogs.handoff import NOTE_CHARS, hand_off
from bot.facts import Facts

MAX_CLARIFY = 1
# The most of the debtor's latest misunderstood messages a `not_understood` note quotes: the
# one the bot asked about and the answer it still did not understand.
QUOTED_MISSES = 2
# Marks a history line holding words the bot did not understand. An ask, so a negotiation
# note that outlives it lists it with what the debtor asked, never with what the bot offered.
MISSED = ASKED + "not understood: "


def clarify(out: Outcome, turn: Turn | None = None) -> Outcome:
    """Ask once what the debtor means; the second miss in a row goes to a person, with a
    note quoting what the bot did not understand (`turn`: the message it missed)."""
    words = _one_line(turn.text) if turn is not None and not out.identity_answer else ""
    if out.state.clarified >= MAX_CLARIFY:
        out.state.clarified = 0
        return hand_off(out, "not_understood", key="fallback.handoff",
                        note=_missed_note(out.state, words))
    if out.state.clarified == 0:
        _forget_misses(out.state)  # a new misunderstanding: the last one was cleared up
    out.state.clarified += 1
    if words:
        out.state.remember(MISSED + words)
    out.state.drop_offer()  # the menu is the question now: a "yes" after it accepts nothing
    return out.say("fallback.clarify", choices=MENU)


def _one_line(text: str) -> str:
    """The words on one line, at most `NOTE_CHARS`."""
    said = " ".join(text.split())
    return said if len(said) <= NOTE_CHARS else said[: NOTE_CHARS - 1] + "…"


def _missed_note(state: DialogState, words: str) -> str | None:
    """The handoff note: the debtor's latest misunderstood messages, quoted in order."""
    # With an offer still awaiting its answer the first miss was an unclear yes or no, asked
    # again by the router without a line: a stored miss is an older, cleared-up one.
    stored = [] if state.flow in OFFER_FLOWS else _misses(state)
    _forget_misses(state)
    quoted = [*stored, *([words] if words else [])][-QUOTED_MISSES:]
    if not quoted:
        return None
    return "debtor said: " + ", then ".join(f'"{said}"' for said in quoted) + "; not understood"


def _misses(state: DialogState) -> list[str]:
    return [line.removeprefix(MISSED) for line in state.history if line.startswith(MISSED)]


def _forget_misses(state: DialogState) -> None:
    state.history = [line for line in state.history if not line.startswith(MISSED)]


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
