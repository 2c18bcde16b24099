"""Giving the conversation to a person: on request, on complaint, when the bot should stop."""

from __future__ import annotations

from bot.dialogs.base import DialogState, Outcome, Turn
from bot.effects import Handoff

# The most characters of the debtor's words a handoff note quotes: enough to act on.
NOTE_CHARS = 300
# The fact a hardship handoff asked for by the debtor notes after their words.
HARDSHIP_ASK = "hardship: asked for a person"


def hand_off(
    out: Outcome, reason: str, *, key: str = "handoff.agent", queue: str = "general",
    priority: int = 0, note: str | None = None,
) -> Outcome:
    """Say `key`, queue the conversation for a human and forget pending offers."""
    out.state.clear_table()
    return out.say(key).do(Handoff(reason, queue, priority, note or _default_note(out, reason)))


def debtor_said(out: Outcome, turn: Turn, *facts: str) -> str | None:
    """A handoff note: the debtor's words, on one line and trimmed, then `facts`. Never the
    words of a message that answered an identity question; a request remembered before the
    verification and answered on it (`Turn.replayed`) carries the words that asked it."""
    answered_identity = out.identity_answer and not turn.replayed
    return note_of(None if answered_identity else turn.text, *facts)


def note_of(words: str | None, *facts: str) -> str | None:
    """A handoff note quoting `words` (on one line, at most `NOTE_CHARS`), then `facts`."""
    said = " ".join((words or "").split())
    if not said:
        return "; ".join(facts) or None
    if len(said) > NOTE_CHARS:
        said = said[: NOTE_CHARS - 1] + "…"
    return "; ".join((f'debtor said: "{said}"', *facts))


def _default_note(out: Outcome, reason: str) -> str | None:
    """What the agent needs when the dialog gave no note: never the identity answers."""
    if reason == "verification_locked":
        return f"identity not verified: {out.state.attempts} failed attempts"
    if reason == "verification_stalled":
        return "identity questions left unanswered"
    return None


def request_agent(out: Outcome, turn: Turn | None = None) -> Outcome:
    """The debtor asked for a person: from the hardship queue while the hardship options are
    what they answer, since its people are the ones who may agree a hardship arrangement."""
    if in_hardship(out.state):
        note = debtor_said(out, turn, HARDSHIP_ASK) if turn else HARDSHIP_ASK
        return hand_off(out, "hardship", queue="hardship", priority=1, note=note)
    note = debtor_said(out, turn, "asked for a person") if turn else "asked for a person"
    return hand_off(out, "requested_agent", note=note)


def in_hardship(state: DialogState) -> bool:
    """The offers awaiting the debtor's answer are hardship offers (the smallest plan, a
    pause): they are in the hardship dialog."""
    waiting = [*state.options, *([state.offer] if state.offer else [])]
    return state.flow is not None and any(o.get("hardship") for o in waiting)


def complaint(out: Outcome, turn: Turn | None = None) -> Outcome:
    """Never argue: acknowledge and hand off with priority."""
    note = debtor_said(out, turn, "complaint") if turn else None
    return hand_off(out, "complaint", key="complaint.ack", queue="complaints", priority=2,
                    note=note)
