"""Which of the amounts and dates a message names are the ones the debtor offers."""

from __future__ import annotations

import re
from datetime import date

from bot.dialogs.currency import AMOUNT_CURRENCY, stated_currency
from nlu.types import Entity, Parse

# An amount named as what is owed ("i know i owe 1278 but i can pay 100") is not an offer.
OWED_BEFORE = re.compile(
    r"\b(?:owe|owes|owed|balance(?: is| of)?|debt(?: is| of)?|debo|saldo(?: es| de)?"
    r"|deuda(?: es| de)?|adeudo(?: es| de)?)\W*$", re.IGNORECASE)
# Where a clause ends: "i get paid friday, ill pay you monday", "te pago el lunes porque
# me pagan el viernes".
CLAUSE_BREAK = re.compile(
    r"[;!?]|[.,](?!\d)|\b(?:but|and|then|so|because|cause|cuz|when|once|after|y|pero|"
    r"entonces|luego|porque|cuando|despu[eé]s)\b", re.IGNORECASE)
# A clause about the debtor's own pay names a payday or a pay cheque, not a payment to us.
PAYDAY = re.compile(
    r"\b(?:(?:get|gets|getting|got|be|being)\s+paid|pay\s?day|pay\s?check|pay\s?cheque|"
    r"my check|me\s+(?:pagan|pagaron|paga|pag[oó]|depositan|depositaron)|cobro|cobr[eé]|"
    r"cobrar|quincena|mi cheque)\b", re.IGNORECASE)
# A clause about a payment already made ("i paid 50 last week and will pay 100 friday").
PAID = re.compile(
    r"\b(?:paid|payed|sent|made|transferred|deposited|mailed|pagu[eé]|ya\s+pag[uoóeé]\w*|"
    r"deposit[eé]|transfer[ií]|envi[eé]|mand[eé])\b", re.IGNORECASE)
# Intents about a payment made: they name the past payment's amount and day.
LOOKING_BACK = frozenset({"already_paid"})


def chosen_entities(parse: Parse, today: date) -> dict[str, str]:
    """The value of each entity the turn acts on, and the currency its amount was stated in.

    Of several amounts or dates, the first that is an offer: not named as owed, not the
    debtor's own pay, not a payment already made, and (dates) not in the past — unless the
    intent looks back at a payment made, or no candidate is left, when the first counts.
    """
    entities = {e.entity: e.value for e in reversed(parse.entities)}
    back = parse.intent.name in LOOKING_BACK
    amount = _first_offer(parse, "amount", back, today)
    if amount is not None:
        entities["amount"] = amount.value
        stated = stated_currency(amount.text, amount.currency)
        if stated:
            entities[AMOUNT_CURRENCY] = stated
    day = _first_offer(parse, "date", back, today)
    if day is not None:
        entities["date"] = day.value
    return entities


def _first_offer(parse: Parse, kind: str, back: bool, today: date) -> Entity | None:
    found = [e for e in parse.entities if e.entity == kind]
    if not found:
        return None
    offers = [e for e in found if not _owed(parse.text, e)]
    if not back:
        offers = [e for e in offers if _forward(parse.text, e, today)]
    elif kind == "date":
        offers = [e for e in offers if (_day(e.value) or today) <= today]
    return (offers or found)[0]


def _owed(text: str, entity: Entity) -> bool:
    return bool(OWED_BEFORE.search(text[max(0, entity.start - 30):entity.start]))


def _forward(text: str, entity: Entity, today: date) -> bool:
    clause = _clause(text, entity)
    if PAYDAY.search(clause) or PAID.search(clause):
        return False
    return entity.entity != "date" or (_day(entity.value) or today) >= today


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:  # a Rasa backend's odd value: no reason to prefer or drop it
        return None


def _clause(text: str, entity: Entity) -> str:
    start = max((m.end() for m in CLAUSE_BREAK.finditer(text, 0, entity.start)), default=0)
    after = CLAUSE_BREAK.search(text, entity.end)
    return text[start:after.start() if after else len(text)]
