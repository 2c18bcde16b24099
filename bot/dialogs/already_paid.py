""""I already paid": record the claim, ask for the details, a person reconciles."""

from __future__ import annotations

from bot.dialogs.base import Outcome, Turn
from bot.dialogs.handoff import debtor_said, hand_off
from bot.effects import RecordPaymentClaim


def already_paid(out: Outcome, turn: Turn) -> Outcome:
    """Reminders pause while the claim is open; a human checks the payment."""
    amount, day = turn.amount(), turn.date()
    out.do(RecordPaymentClaim(turn.text, amount, day))
    facts = (
        f"says paid: {amount if amount is not None else 'amount not given'}",
        f"on: {day.isoformat() if day is not None else 'day not given'}",
    )
    return hand_off(out, "already_paid", key="already_paid.ack", queue="payments",
                    note=debtor_said(out, turn, *facts))
