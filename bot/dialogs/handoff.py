"""Giving the conversation to a person: on request, on complaint, when the bot should stop."""

from __future__ import annotations

from bot.dialogs.base import Outcome, Turn
from bot.effects import Handoff

# The most characters of the debtor's words a handoff note quotes: enough to act on.
NOTE_CHARS = 300


def hand_off(
    out: Outcome, reason: str, *, key: str = "handoff.agent", queue: str = "general",
    priority: int = 0, note: str | None = None,
) -> Outcome:
    """Say `key`, queue the conversation for a human and forget pending offers."""
    out.state.clear_table()
    return out.say(key).do(Handoff(reason, queue, priority, note or _default_note(out, reason)))


def debtor_said(out: Outcome, turn: Turn, *facts: str) -> str | None:
    """A handoff note: the debtor's words, on one line and trimmed, then `facts`. Never the
    words of a message that answered an identity question (a verification replaying a
    remembered request carries the answer, a date of birth or a ZIP, as its text)."""
    words = " ".join(turn.text.split())
    if out.identity_answer or not words:
        return "; ".join(facts) or None
    if len(words) > NOTE_CHARS:
        words = words[: NOTE_CHARS - 1] + "…"
    return "; ".join((f'debtor said: "{words}"', *facts))


def _default_note(out: Outcome, reason: str) -> str | None:
    """What the agent needs when the dialog gave no note: never the identity answers."""
    if reason == "verification_locked":
        return f"identity not verified: {out.state.attempts} failed attempts"
    if reason == "verification_stalled":
        return "identity questions left unanswered"
    return None


def request_agent(out: Outcome, turn: Turn | None = None) -> Outcome:
    """The debtor asked for a person."""
    note = debtor_said(out, turn, "asked for a person") if turn else "asked for a person"
    return hand_off(out, "requested_agent", note=note)


def complaint(out: Outcome, turn: Turn | None = None) -> Outcome:
    """Never argue: acknowledge and hand off with priority."""
    note = debtor_said(out, turn, "complaint") if turn else None
    return hand_off(out, "complaint", key="complaint.ack", queue="complaints", priority=2,
                    note=note)
