"""Amounts the debtor names in another currency than the account's: asked again, never taken."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from bot.dialogs.base import PARTS, Outcome, Turn
from bot.facts import Facts

# The turn entity holding the currency a message's amount was stated in (see `stated_currency`).
AMOUNT_CURRENCY = "amount_currency"
# "pesos" names no one currency: any peso account takes it, no other account does.
PESO = "PESO"
PESO_CURRENCIES = frozenset({"ARS", "CLP", "COP", "CUP", "DOP", "MXN", "PHP", "UYU"})
# A "$" amount whose currency is written beside it: "US$", "USD", "MX$", "MXN", "M.N.".
_DOLLAR_NAMED = re.compile(r"us\$|usd|mx\$|mxn|m\.\s?n\.")


def stated_currency(text: str, currency: str | None) -> str | None:
    """The currency an amount's words name: its ISO code, PESO for pesos, else None.

    A bare "$" names none: Mexicans, Colombians, Chileans and Argentines write their pesos
    with it too, so "$500" is taken as the account's currency. A code beside it does name
    one ("US$500", "$500 MXN", "$1,500 M.N.").
    """
    plain = unicodedata.normalize("NFKD", text.casefold())
    if "$" in plain and not (_DOLLAR_NAMED.search(plain) or "peso" in plain):
        return None
    if currency:
        return currency
    return PESO if "peso" in plain else None


def in_another_currency(turn: Turn, facts: Facts) -> bool:
    """True when the message's amount is in a currency the account is not in."""
    stated = turn.entities.get(AMOUNT_CURRENCY)
    if not stated or turn.amount() is None:
        return False
    if stated == PESO:
        return facts.currency not in PESO_CURRENCIES
    return stated != facts.currency


def without_foreign_amount(out: Outcome, turn: Turn, facts: Facts) -> Turn:
    """"I'll pay 50 euros friday" on a dollar account: say that only dollars are taken, and
    go on as if no amount was named (the flow then asks for one)."""
    out.say("money.other_currency", debt=True, currency_name=facts.currency)
    dropped = ("amount", AMOUNT_CURRENCY, PARTS)
    entities = {k: v for k, v in turn.entities.items() if k not in dropped}
    return replace(turn, entities=entities)
