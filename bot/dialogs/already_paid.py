""""I already paid": record the claim, ask for the details, a person reconciles."""

from __future__ import annotations

from bot.dialogs.base import Outcome, Turn
from bot.dialogs.handoff import hand_off
from bot.effects import RecordPaymentClaim


def already_paid(out: Outcome, turn: Turn) -> Outcome:
    """Reminders pause while the claim is open; a human checks the payment."""
    out.do(RecordPaymentClaim(turn.text, turn.amount(), turn.date()))
    return hand_off(out, "already_paid", key="already_paid.ack", queue="payments")
