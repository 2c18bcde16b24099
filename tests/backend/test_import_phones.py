"""The fast US phone path answers exactly as `phonenumbers` does."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from backend.services.geo import InvalidPhone, normalize_phone
from backend.services.imports.phones import national_validator, us_e164


def _reference(raw: str, country: str) -> str | None:
    try:
        return normalize_phone(raw, country)
    except InvalidPhone:
        return None


def test_the_compiled_us_rule_matches_is_valid_number_for_region() -> None:
    valid = national_validator("US", 10)
    rng = random.Random(2026)
    for _ in range(20_000):
        national = str(rng.randint(2_000_000_000, 9_999_999_999))
        number = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
        assert valid(national) == phonenumbers.is_valid_number_for_region(number, "US"), national


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("(713) 555-0123", "US"),
        ("713-555-0123", "US"),
        ("+1 212 555 1234", "US"),
        ("1 212 555 1234", "US"),
        ("+1 212 555 1234", "GB"),
        ("212 555 1234", "GB"),
        ("613-555-0123", "US"),  # Canada: not valid for the US, the full path decides
        ("800-555-0199", "US"),
        ("900-555-0199", "US"),
        ("211-555-0199", "US"),
        ("713５550123", "US"),  # full-width digit: the full path gives ASCII E.164
    ],
)
def test_fast_answers_agree_with_phonenumbers(raw: str, country: str) -> None:
    fast = us_e164(raw, country)
    assert fast is None or fast == _reference(raw, country)
    if fast is None:
        return
    assert fast.isascii()


def test_an_unknown_region_validates_nothing() -> None:
    assert not national_validator("ZZ", 10)("2125551234")


def test_plain_us_numbers_take_the_fast_path() -> None:
    assert us_e164("(713) 555-0123", "US") == "+17135550123"
    assert us_e164("+1 212 555 1234", "MX") == "+12125551234"
    assert us_e164("212 555 1234", "MX") is None
