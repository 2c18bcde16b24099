""""I already paid": record the claim, ask for the details, a person reconciles."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from bot.dialogs.base import Outcome, Turn, plain
from bot.dialogs.handoff import debtor_said, hand_off
from bot.effects import RecordPaymentClaim

# A payment's reference: letters, digits and inner dashes, 5 to 30 characters, some digit.
_CODE = r"[a-z0-9](?:[a-z0-9-]{3,28})[a-z0-9]"
# Words naming the code after them as the payment's reference (accents dropped by `plain`).
_CUE = (r"(?:confirmation|conf|reference|ref|receipt|transaction|trans|txn|tracking"
        r"|numero de confirmacion|confirmacion|referencia|folio|recibo|transaccion"
        r"|comprobante)")
_JOINER = r"(?:\s*(?:number|num|no|nr|numero|n[o°º]|id|es|is|de|:|#|\.))*\s*"
CUED = re.compile(rf"(?:\b{_CUE}\b|#){_JOINER}#?\s*(?P<code>{_CODE})\b")
# A code on its own ("paid, 8XK29341"): letters and at least two digits, five characters or
# more; never a day ("nov24th"), a time ("1030am") or money ("1200usd").
BARE = re.compile(rf"(?<![\w$€£/.,:-])(?P<code>{_CODE})(?![\w/:]|[.,]\d)")
_NOT_A_CODE = re.compile(
    r"\d+(?:st|nd|rd|th|am|pm|hrs?|k)|(?:usd|eur|mxn|gbp|cad|dollars?|pesos?)\d+"
    r"|\d+(?:usd|eur|mxn|gbp|cad|dollars?|pesos?)"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|ene|abr|ago|dic)[a-z]*\d{1,4}"
    r"(?:st|nd|rd|th)?")


def already_paid(out: Outcome, turn: Turn) -> Outcome:
    """Reminders pause while the claim is open; a human checks the payment. The
    acknowledgement asks only for what the debtor has not given: the day, the reference."""
    reference = payment_reference(turn.text)
    amount, day = _amount_paid(turn, reference), turn.date()
    out.do(RecordPaymentClaim(turn.text, amount, day, reference))
    facts = [
        f"says paid: {amount if amount is not None else 'amount not given'}",
        f"on: {day.isoformat() if day is not None else 'day not given'}",
        *([f"reference: {reference}"] if reference else []),
    ]
    key, slots = _acknowledgement(day, reference)
    hand_off(out, "already_paid", key=key, queue="payments",
             note=debtor_said(out, turn, *facts))
    said = out.said[-1]  # hand_off says its key without slots
    out.said[-1] = replace(said, reply=replace(said.reply, slots=slots))
    return out


def _acknowledgement(day: date | None, reference: str | None) -> tuple[str, dict[str, Any]]:
    """The thanks asking only for what is missing: the reference, the day, both or nothing."""
    if day is not None and reference is not None:
        return "already_paid.noted", {"date": day, "reference": reference}
    if day is not None:
        return "already_paid.ask_reference", {"date": day}
    if reference is not None:
        return "already_paid.ask_date", {"reference": reference}
    return "already_paid.ack", {}


def payment_reference(text: str) -> str | None:
    """The payment's reference or confirmation number in `text`, as written, if any."""
    lowered = plain(text)
    if len(lowered) != len(text):  # accents folded into extra characters: no safe span
        lowered = text.casefold()
    for found in CUED.finditer(lowered):
        if _is_code(found.group("code"), cued=True):
            return text[found.start("code"):found.end("code")]
    for found in BARE.finditer(lowered):
        if _is_code(found.group("code"), cued=False):
            return text[found.start("code"):found.end("code")]
    return None


def _is_code(code: str, *, cued: bool) -> bool:
    """A reference has a digit (two, and a letter, when no word names it) and is no day, time
    or money."""
    digits = sum(ch.isdigit() for ch in code)
    letters = any(ch.isalpha() for ch in code)
    if _NOT_A_CODE.fullmatch(code) or re.fullmatch(r"[\d-]+", code) and "-" in code:
        return False  # "2026-11-24", "10001-1234": a date or a ZIP+4, not a reference
    return digits >= 1 if cued else digits >= 2 and letters


def _amount_paid(turn: Turn, reference: str | None) -> Decimal | None:
    """The amount said, unless it is only the reference read as money ("folio 4471823")."""
    amount = turn.amount()
    if amount is not None and reference is not None and reference.isdigit() \
            and amount == Decimal(reference):
        return None
    return amount
