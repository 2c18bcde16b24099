"""An amount named in another currency than the account's is never taken as the account's."""

from __future__ import annotations

import pytest

from bot.dialogs.base import Turn
from bot.dialogs.currency import AMOUNT_CURRENCY, in_another_currency, stated_currency
from tests.bot.helpers import T0, make_facts


@pytest.mark.parametrize(("text", "currency", "stated"), [
    ("50 euros", "EUR", "EUR"),
    ("cincuenta dólares", "USD", "USD"),
    ("$500", "USD", None),  # Mexicans write pesos with "$" too
    ("US$500", "USD", "USD"),
    ("$500 MXN", "MXN", "MXN"),  # a code beside the "$" names the currency
    ("$1,500.00 M.N.", "MXN", "MXN"),
    ("$500 pesos", None, "PESO"),
    ("mil pesos", None, "PESO"),
    ("500", None, None),
])
def test_the_currency_an_amount_names(text: str, currency: str | None, stated: str | None) -> None:
    assert stated_currency(text, currency) == stated


@pytest.mark.parametrize(("account", "stated", "foreign"), [
    ("USD", "EUR", True),
    ("USD", "PESO", True),
    ("MXN", "PESO", False),
    ("COP", "PESO", False),
    ("MXN", "USD", True),
    ("USD", "USD", False),
])
def test_which_amounts_are_foreign(account: str, stated: str, foreign: bool) -> None:
    turn = Turn("x", "promise_to_pay", T0, entities={"amount": "50.00", AMOUNT_CURRENCY: stated})
    assert in_another_currency(turn, make_facts(currency=account)) is foreign
