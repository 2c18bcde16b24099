"""A pay link that opens nothing (tampered, forged, expired) answers a debtor with a page in
their language saying how to get a new one, and nothing about any debt; API clients asking for
JSON keep the JSON error."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from backend.settings import Settings
from bot.clock import SettableClock
from tests.backend.test_payment_page import CARD, _serve, _state

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
SPANISH = {**BROWSER, "accept-language": "es-MX,es;q=0.9,en;q=0.5"}


def _tampered(path: str) -> str:
    """`path` with the first character of its token's signature changed: it no longer holds."""
    head, _, signature = path.rpartition(".")
    return f"{head}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


def _says_nothing_of_the_debt(text: str) -> None:
    for detail in ("120", "300", "PAY-1", "$", "Amount", "<form"):
        assert detail not in text


@pytest.mark.parametrize("method", ["get", "post"])
async def test_a_tampered_link_answers_a_page_saying_how_to_get_a_new_one(
    settings: Settings,
    clock: SettableClock,
    method: str,
) -> None:
    async for container, client, account_id, path in _serve(settings, clock):
        sent = getattr(client, method)
        answer = await (
            sent(_tampered(path), headers=BROWSER)
            if method == "get"
            else sent(_tampered(path), data=CARD, headers=BROWSER)
        )
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert '<html lang="en">' in answer.text
        assert "This payment link no longer works" in answer.text
        assert "reply to the message you received from us" in answer.text
        assert "contact the company that sent you the link" in answer.text
        _says_nothing_of_the_debt(answer.text)
        # The token opens an account: the page is never framed, cached or sent on as Referer.
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["cache-control"] == "no-store"
        assert await _state(container, account_id) == (Decimal("300.00"), 0)


async def test_an_expired_link_answers_in_the_readers_language(
    settings: Settings,
    clock: SettableClock,
) -> None:
    async for container, client, account_id, path in _serve(settings, clock):
        clock.advance(timedelta(days=8))
        for answer in (
            await client.get(path, headers=SPANISH),
            await client.post(path, data=CARD, headers=SPANISH),
        ):
            assert answer.status_code == 404
            assert '<html lang="es">' in answer.text
            assert "Este enlace de pago ya no funciona" in answer.text
            assert "responda al mensaje que recibió de nosotros" in answer.text
            _says_nothing_of_the_debt(answer.text)
        assert await _state(container, account_id) == (Decimal("300.00"), 0)


async def test_in_production_a_bad_token_on_the_form_gets_the_page_too(
    settings: Settings,
    clock: SettableClock,
) -> None:
    async for _, client, _, path in _serve(settings, clock, parley_env="production"):
        answer = await client.post(_tampered(path), data=CARD, headers=BROWSER)
        assert answer.status_code == 404
        assert "This payment link no longer works" in answer.text


async def test_an_api_client_asking_for_json_keeps_the_json_error(
    settings: Settings,
    clock: SettableClock,
) -> None:
    async for _, client, _, path in _serve(settings, clock):
        for answer in (
            await client.get(_tampered(path), headers={"accept": "application/json"}),
            await client.post(_tampered(path), data=CARD, headers={"accept": "application/json"}),
        ):
            assert answer.status_code == 404
            assert answer.json() == {"detail": "this payment link is invalid or expired"}
