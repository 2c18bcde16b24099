"""Amounts and dates in a reply read as they are written where the account's money is spent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from backend.api.routes.payments import _money
from bot.responses import RenderContext, Renderer
from tests.bot.helpers import Transcript, make_facts, texts

RENDERER = Renderer()


def _spanish_plan_options(currency: str) -> str:
    t = Transcript(make_facts(currency=currency, balance=Decimal("1500.00")))
    t.verify()
    out = t.says("puedo pagar en cuotas", "request_payment_plan")
    return texts(out, t.facts, locale="es")[0]  # type: ignore[arg-type]


def _balance(locale: str, currency: str, amount: str = "1500.00") -> str:
    ctx = RenderContext(locale=locale, currency=currency)
    return RENDERER.sentence("balance.answer", {
        "creditor": "Acme", "reference": "3456", "amount": Decimal(amount), "days": 95,
    }, ctx)


def test_a_spanish_reply_about_euros_is_written_as_in_spain() -> None:
    text = _balance("es", "EUR")
    assert "1.500,00 €" in text, text
    assert "1,500.00" not in text and "\u00a0" not in text  # NBSP would force UCS-2 SMS
    assert "191,70 €" in _balance("es", "EUR", "191.70")


def test_a_spanish_plan_offer_in_euros_lists_spanish_amounts() -> None:
    text = _spanish_plan_options("EUR")
    assert "el saldo de 1.500,00 € ahora" in text, text
    assert "2 pagos mensuales de 750,00 €" in text, text
    assert "12 pagos mensuales de 125,00 €" in text, text
    assert "EUR" not in text and ".00" not in text


@pytest.mark.parametrize(("locale", "currency", "written"), [
    ("es", "USD", "$1,500.00"),  # Spanish speakers in the US: as before
    ("en", "USD", "$1,500.00"),
    ("es", "MXN", "1,500.00 MXN"),  # Mexico writes 1,500.00; "$" alone could be dollars
    ("en", "EUR", "€1,500.00"),
])
def test_other_accounts_keep_an_unambiguous_form(locale: str, currency: str, written: str) -> None:
    assert written in _balance(locale, currency)


def test_dates_follow_the_same_region() -> None:
    day = date(2026, 12, 5)
    ctx = RenderContext(locale="en", currency="EUR")
    text = RENDERER.sentence("promise.confirm", {"amount": Decimal("10.00"), "date": day}, ctx)
    assert "5 December 2026" in text, text
    us = RenderContext(locale="en", currency="USD")
    assert "December 5, 2026" in RENDERER.sentence(
        "promise.confirm", {"amount": Decimal("10.00"), "date": day}, us)


@pytest.mark.parametrize(("lang", "currency"), [
    ("es", "EUR"), ("es", "USD"), ("es", "MXN"), ("en", "USD"), ("en", "EUR")])
def test_the_payment_page_writes_the_amount_as_the_bot_does(lang: str, currency: str) -> None:
    account: Any = SimpleNamespace(currency=currency)
    page = _money(Decimal("1500.00"), account, lang)
    assert page in _balance(lang, currency), page
    if (lang, currency) == ("es", "EUR"):
        assert page == "1.500,00 €"
