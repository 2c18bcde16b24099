"""Card numbers, security codes, card expiries and SSNs removed from debtor text, en and es."""

from __future__ import annotations

import pytest

from backend.services.compliance.card_data import MARKERS, luhn_valid, redact_card_data

CARD = MARKERS["card_number"]
EXPIRY = MARKERS["card_expiry"]
CODE = MARKERS["security_code"]
SSN = MARKERS["ssn"]


@pytest.mark.parametrize(
    ("text", "redacted", "kinds"),
    [
        (
            "Michael Hall here, my card 4111111111111111 exp 12/27 cvv 123, ssn 123-45-6789",
            f"Michael Hall here, my card {CARD} exp {EXPIRY} cvv {CODE}, ssn {SSN}",
            ("card_number", "card_expiry", "security_code", "ssn"),
        ),
        # Grouped by spaces or dashes, and typed in a row with its expiry and code.
        (
            "4111 1111 1111 1111 12/27 123",
            f"{CARD} {EXPIRY} {CODE}",
            ("card_number", "card_expiry", "security_code"),
        ),
        (
            "card 5555-5555-5555-4444 and it expires 12/2027",
            f"card {CARD} and it expires {EXPIRY}",
            ("card_number", "card_expiry"),
        ),
        (
            "my card expires 12/27, number 4111111111111111",
            f"my card expires {EXPIRY}, number {CARD}",
            ("card_number", "card_expiry"),
        ),
        # Amex: 15 digits, alone or 4-6-5; a 4-digit CID.
        ("amex 378282246310005", f"amex {CARD}", ("card_number",)),
        (
            "amex 3782-822463-10005 cvc: 1234",
            f"amex {CARD} cvc: {CODE}",
            ("card_number", "security_code"),
        ),
        ("3782 822463 10005", CARD, ("card_number",)),
        ("visa4111111111111111exp12/27", f"visa{CARD}exp{EXPIRY}", ("card_number", "card_expiry")),
        ("on 12/3 use 4111 1111 1111 1111", f"on 12/3 use {CARD}", ("card_number",)),
        # Spanish.
        (
            "mi tarjeta es 5555 5555 5555 4444, vence 08/29, código de seguridad 321",
            f"mi tarjeta es {CARD}, vence {EXPIRY}, código de seguridad {CODE}",
            ("card_number", "card_expiry", "security_code"),
        ),
        (
            "tarjeta 4111111111111111 fecha de vencimiento: 0827 el cvv es 987",
            f"tarjeta {CARD} fecha de vencimiento: {EXPIRY} el cvv es {CODE}",
            ("card_number", "card_expiry", "security_code"),
        ),
        (
            "tarjeta 4111-1111-1111-1111, fecha de expiración 11/28",
            f"tarjeta {CARD}, fecha de expiración {EXPIRY}",
            ("card_number", "card_expiry"),
        ),
        ("número de seguro social 123456789", f"número de seguro social {SSN}", ("ssn",)),
        ("mi seguro social es 123-45-6789", f"mi seguro social es {SSN}", ("ssn",)),
        # Security codes and SSNs after their words, with no card in the message.
        ("security code is 123", f"security code is {CODE}", ("security_code",)),
        ("the CVV2 number: 4567", f"the CVV2 number: {CODE}", ("security_code",)),
        ("my social is 123 45 6789", f"my social is {SSN}", ("ssn",)),
        ("SSN 123456789", f"SSN {SSN}", ("ssn",)),
        ("social security number: 123456789", f"social security number: {SSN}", ("ssn",)),
    ],
)
def test_card_data_is_replaced_by_one_marker_per_kind(
    text: str, redacted: str, kinds: tuple[str, ...]
) -> None:
    result = redact_card_data(text)
    assert (result.text, result.kinds) == (redacted, kinds)


@pytest.mark.parametrize(
    "text",
    [
        # Identity answers: a date of birth, a ZIP, a reference's last four, the reference.
        "03/15/1980",
        "my dob is 03/15/1980",
        "03151980",
        "10001",
        "10001-1234",
        "4821",
        "last 4 are 4821",
        "ACME-000123",
        "ref ACME-123456",
        # Amounts, phone numbers, promise dates.
        "$1,200.50",
        "I can pay 1,200.50 on 12/27",
        "pay $100 on 12/3",
        "(212) 555-0123",
        "+1 212 555 0123",
        "212-555-0123",
        "+12125551234",
        # A Luhn-invalid 16-digit reference, phone-shaped groups, a decimal.
        "reference 1234567812345678",
        "ref 1234 5678 1234 5678",
        "0123 212 555 0199",
        "1234567812345670.50",
        # An expiry word or a date with no card number near it.
        "exp 12/27",
        "the offer expires 12/27",
        "vence el 08/29",
        # A card's last digits only, and a date of birth after a card number.
        "the card ending 1111",
        "SSN last 4 6789",
    ],
)
def test_what_is_no_card_data_passes_unchanged(text: str) -> None:
    assert redact_card_data(text).text == text
    assert redact_card_data(text).kinds == ()


def test_a_date_of_birth_next_to_a_card_number_is_kept() -> None:
    result = redact_card_data("card 4111111111111111 dob 03/15/1980 zip 10001")
    assert result.text == f"card {CARD} dob 03/15/1980 zip 10001"


def test_an_expiry_far_from_the_card_number_is_kept() -> None:
    later = ". Separately, the lease on my flat in Queens expires 12/27"
    assert redact_card_data(f"card 4111111111111111{later}").text == f"card {CARD}{later}"


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),
        ("378282246310005", True),
        ("5555555555554444", True),
        ("4111111111111112", False),
        ("1234567812345678", False),
    ],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid
