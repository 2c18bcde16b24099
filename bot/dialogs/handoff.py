"""Giving the conversation to a person: on request, on complaint, when the bot should stop."""

from __future__ import annotations

from bot.dialogs.base import Outcome
from bot.effects import Handoff


def hand_off(
    out: Outcome, reason: str, *, key: str = "handoff.agent", queue: str = "general",
    priority: int = 0, note: str | None = None,
) -> Outcome:
    """Say `key`, queue the conversation for a human and forget pending offers."""
    out.state.clear_table()
    return out.say(key).do(Handoff(reason, queue, priority, note))


def request_agent(out: Outcome) -> Outcome:
    """The debtor asked for a person."""
    return hand_off(out, "requested_agent")


def complaint(out: Outcome) -> Outcome:
    """Never argue: acknowledge and hand off with priority."""
    return hand_off(out, "complaint", key="complaint.ack", queue="complaints", priority=2)
