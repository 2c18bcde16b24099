"""A card's expiry date and security code never reach the training data; ordinary dates and
amounts in debtor messages stay."""

from datetime import date

import pytest

from nlu.accepted import AcceptedExample, Span, masked_again, to_yaml
from nlu.masking import PLACEHOLDERS, mask_pii, placeholders

TODAY = date(2026, 11, 28)
REVIEWED = "yo its M. Clark, card ending 4242 expiring 12/27 cvv 123"


def test_the_reviewers_message_keeps_no_card_data():
    masked = mask_pii(REVIEWED, ["M. Clark"], today=TODAY)
    assert masked.text == "yo its <name>, card ending <number> expiring <date> cvv <number>"
    assert masked.kinds == ["name", "number", "date", "number"]
    # The same placeholders as every other kind, so training and the review's record agree.
    assert placeholders(masked.text) == masked.kinds
    assert set(masked.kinds) <= set(PLACEHOLDERS)


@pytest.mark.parametrize(("text", "masked"), [
    ("exp 12/27", "exp <date>"),
    ("exp: 12/2027", "exp: <date>"),
    ("exp. 12-27", "exp. <date>"),
    ("expires on 12/27", "expires on <date>"),
    ("it expires 1/28", "it expires <date>"),
    ("expiration date 12/27", "expiration date <date>"),
    ("exp date is 12/27", "exp date is <date>"),
    ("expires december 2027", "expires <date>"),
    ("vence 12/27", "vence <date>"),
    ("mi tarjeta vence en 12/27", "mi tarjeta vence en <date>"),
    ("vencimiento: 12/2027", "vencimiento: <date>"),
    ("fecha de vencimiento 03/29", "fecha de vencimiento <date>"),
    ("cvv 123", "cvv <number>"),
    ("cvv: 123", "cvv: <number>"),
    ("CVV2 1234", "CVV2 <number>"),
    ("cvc 123", "cvc <number>"),
    ("cvv#123", "cvv#<number>"),
    ("security code is 123", "security code is <number>"),
    ("the security code: 987", "the security code: <number>"),
    ("código de seguridad 123", "código de seguridad <number>"),
    ("codigo de seguridad es 4567", "codigo de seguridad es <number>"),
    ("tarjeta terminada en 4242, vence 12/27, cvv 123",
     "tarjeta terminada en <number>, vence <date>, cvv <number>"),
])
def test_card_expiry_and_security_codes_become_placeholders(text, masked):
    assert mask_pii(text, today=TODAY).text == masked


@pytest.mark.parametrize("text", [
    "i'll pay 12/3", "50 on 12/27", "te pago el 12/27", "pay 100 on 1/28",
    "el pago vence el 12/15", "cvv? i can pay 200", "i can pay 123 dollars",
    "send 123 on 12/27", "export 12/27", "i expect to pay 12/27", "cvv 123.50",
])
def test_ordinary_dates_and_amounts_stay(text):
    assert mask_pii(text, today=TODAY).text == text


def test_only_the_card_date_goes_when_a_promise_follows():
    text = "exp 12/27 and i pay 50 on 12/28"
    assert mask_pii(text, today=TODAY).text == "exp <date> and i pay 50 on 12/28"


def test_masking_the_masked_text_again_changes_nothing():
    once = mask_pii(REVIEWED, ["M. Clark"], today=TODAY).text
    assert mask_pii(once, today=TODAY).text == once


def test_an_example_saved_before_the_fix_is_exported_without_card_data():
    saved = "card ending <number> expiring 12/27 cvv 123, paying 50 on 12/28"
    old = AcceptedExample(saved, "promise_to_pay", (Span("amount", 52, 54),))
    again = masked_again(old, today=TODAY)
    assert again.text == "card ending <number> expiring <date> cvv <number>, paying 50 on 12/28"
    assert [again.text[s.start:s.end] for s in again.spans] == ["50"]
    exported = to_yaml([again])
    assert "12/27" not in exported and "123" not in exported
