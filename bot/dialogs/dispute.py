"""Disputes: record the debtor's words, pause collection, promise verification, hand off."""

from __future__ import annotations

from bot.dialogs.base import Outcome, Turn
from bot.dialogs.handoff import debtor_said, hand_off
from bot.effects import RecordDispute


def dispute(out: Outcome, turn: Turn, *, verified: bool) -> Outcome:
    """Never argue a dispute; the disputes queue takes it from here."""
    out.do(RecordDispute(turn.text))
    key = "dispute.ack" if verified else "dispute.ack_unverified"
    facts = () if verified else ("identity not verified",)
    return hand_off(out, "dispute", key=key, queue="disputes", priority=1,
                    note=debtor_said(out, turn, *facts))
