"""Card data the inbox deleted from a message: the debtor is told so before the answer."""

from __future__ import annotations

from bot.dialogs.base import Outcome, Said, Turn
from bot.messages import Purpose, Reply

# What backend/services/compliance/card_data.py (MARKERS) writes in place of a card number,
# its expiry, a security code or an SSN before the turn reads the message; bot/ imports no
# backend/, so they are copied here (tests/bot/test_s24_card_warning_markers.py keeps both equal).
MARKERS = ("[card number hidden]", "[expiry hidden]", "[security code hidden]", "[SSN hidden]")
NOTICE = "card_data.deleted"


def removed(text: str) -> bool:
    """The inbox deleted card data (or an SSN) from the message."""
    return any(marker in text for marker in MARKERS)


def warned(out: Outcome, turn: Turn) -> Outcome:
    """The answer to a message whose card data was deleted, with the notice said first.

    The notice names no debt, so it goes before verification too; it never makes a silent
    turn speak, nor goes beside an opt-out's confirmation or a stop's acknowledgement, which
    must be the one message sent then (compliance.md A.3 item 16, C item 45).
    """
    if removed(turn.text) and out.said and all(s.purpose == Purpose.REPLY for s in out.said):
        out.said.insert(0, Said(Reply(NOTICE)))
    return out
