"""Validating one CSV row into an AccountRow, or the precise reasons it is invalid."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies

from backend.services.geo import InvalidPhone, derive_timezone, is_known_timezone, normalize_phone
from backend.services.imports.phones import us_e164
from backend.services.imports.regions import region_code

# Currency code -> its decimals, looked up once (babel's lookup costs more than a row's parse).
CURRENCY_PRECISION = {code: get_currency_precision(code) for code in list_currencies()}
CURRENCIES = frozenset(CURRENCY_PRECISION)
LANGUAGES = frozenset({"en", "es"})
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COUNTRY_RE = re.compile(r"[A-Z]{2}")
MAX_BALANCE = Decimal("9999999999999999.99")
CENT = Decimal("0.01")
# Digits with exactly two decimals, at most MAX_BALANCE: Decimal() of it is already the
# quantized amount, so the general checks below have nothing to add.
PLAIN_AMOUNT_RE = re.compile(r"[0-9]{1,16}\.[0-9]{2}")
# An optional $, then digits (commas only between groups of three), then optional decimals:
# "1,50" is a decimal comma, not 150, and "1e3" is not how a statement writes 1000.
AMOUNT_RE = re.compile(r"\$?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
# date.fromisoformat also takes 20261001 and 2026-W40-4; the columns promise YYYY-MM-DD.
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one field of one row was rejected; `row` counts the header as row 1."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


@dataclass(frozen=True, slots=True)
class AccountRow:
    """A validated, normalized account line ready to upsert."""

    row: int
    external_ref: str
    creditor: str
    portfolio: str
    debtor_name: str
    phone: str | None
    email: str | None
    date_of_birth: date | None
    postal_code: str | None
    region: str | None
    country: str
    timezone: str
    currency: str
    balance: Decimal
    original_balance: Decimal
    due_date: date
    preferred_language: str
    # False when the file left original_balance empty (it then equals balance).
    original_given: bool = True


class _Collector:
    """Collects the errors of one row while its fields are parsed."""

    def __init__(self, row: int) -> None:
        self.row = row
        self.errors: list[RowError] = []

    def fail(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.row, column, reason))


def validate_row(
    row_number: int, raw: dict[str, str | None], today: date | None = None
) -> AccountRow | list[RowError]:
    """Parse every field; return the row, or every problem found in it.

    `today` comes from the caller's clock; without it a date of birth is not checked
    against the future.
    """
    return validate_values(row_number, {k: (v or "").strip() for k, v in raw.items() if k}, today)


def validate_values(
    row_number: int, values: dict[str, str], today: date | None = None
) -> AccountRow | list[RowError]:
    """`validate_row` for values already stripped (a missing column may be absent)."""
    errs = _Collector(row_number)
    get = values.get
    for name in ("external_ref", "creditor", "portfolio", "debtor_name"):
        if not get(name):
            errs.fail(name, "required value is empty")
    country = (get("country") or "US").upper()
    if not COUNTRY_RE.fullmatch(country):
        errs.fail("country", f"{country!r} is not a two-letter ISO country code")
    phone = _phone(get("phone", ""), country, errs)
    email = get("email") or None
    if email and not EMAIL_RE.match(email):
        errs.fail("email", f"{email!r} is not an email address")
    currency = _currency(get("currency", ""), errs)
    balance = _money("balance", get("balance", ""), errs, currency, required=True)
    original = _money("original_balance", get("original_balance", ""), errs, currency)
    due = _date("due_date", get("due_date", ""), errs, required=True)
    dob = _date("date_of_birth", get("date_of_birth", ""), errs)
    if dob and due and today is not None and dob > today:
        errs.fail("date_of_birth", f"{dob.isoformat()} is in the future")
    region = _region(get("state", ""), country, errs)
    timezone = _timezone(get("timezone", ""), region, country, phone, errs)
    language = (get("preferred_language") or "en").lower()
    if language not in LANGUAGES:
        errs.fail("preferred_language", f"{language!r} is not one of {sorted(LANGUAGES)}")
    if errs.errors or balance is None or due is None or currency is None:
        return errs.errors
    return AccountRow(
        row_number,
        values["external_ref"],
        values["creditor"],
        values["portfolio"],
        values["debtor_name"],
        phone,
        email,
        dob,
        get("postal_code") or None,
        region,
        country,
        timezone,
        currency,
        balance,
        original if original is not None else balance,
        due,
        language,
        original is not None,
    )


def _phone(raw: str, country: str, errs: _Collector) -> str | None:
    if not raw:
        return None
    fast = us_e164(raw, country)
    if fast:
        return fast
    try:
        return normalize_phone(raw, country)
    except InvalidPhone as exc:
        errs.fail("phone", f"{raw!r}: {exc}")
        return None


def _currency(raw: str, errs: _Collector) -> str | None:
    code = raw.upper()
    if not code:
        errs.fail("currency", "required value is empty")
        return None
    if code not in CURRENCIES:
        errs.fail("currency", f"{raw!r} is not an ISO-4217 currency code")
        return None
    if CURRENCY_PRECISION[code] > 2:
        errs.fail("currency", f"{code} has {CURRENCY_PRECISION[code]} decimals; at most 2")
        return None
    return code


def _region(raw: str, country: str, errs: _Collector) -> str | None:
    if not raw:
        return None
    code = region_code(raw, country)
    if code is None:
        where = "a US state code or name" if country == "US" else "a two-letter region code"
        errs.fail("state", f"{raw!r} is not {where}")
    return code


def _money(
    column: str, raw: str, errs: _Collector, currency: str | None, required: bool = False
) -> Decimal | None:
    places = CURRENCY_PRECISION[currency] if currency else 2
    if places == 2 and PLAIN_AMOUNT_RE.fullmatch(raw):
        return Decimal(raw)
    if not raw:
        if required:
            errs.fail(column, "required value is empty")
        return None
    digits = raw.removeprefix("-")
    if not AMOUNT_RE.fullmatch(digits):
        errs.fail(column, f"{raw!r} is not a number (write e.g. 1250.00 or 1,250.00)")
        return None
    amount = Decimal(digits.replace(",", "").replace("$", ""))
    if amount and digits != raw:
        errs.fail(column, f"{raw} is negative")
    elif amount != amount.quantize(Decimal(1).scaleb(-places)):
        units = f"{currency} has {places}" if currency else f"at most {places}"
        errs.fail(column, f"{raw} has more decimals than the currency allows ({units})")
    elif amount > MAX_BALANCE:
        errs.fail(column, f"{raw} is too large")
    else:
        return amount.quantize(CENT)
    return None


def _date(column: str, raw: str, errs: _Collector, required: bool = False) -> date | None:
    if not raw:
        if required:
            errs.fail(column, "required value is empty")
        return None
    try:
        if not DATE_RE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        errs.fail(column, f"{raw!r} is not a real date in YYYY-MM-DD form")
        return None


def _timezone(
    raw: str, region: str | None, country: str, phone: str | None, errs: _Collector
) -> str:
    if raw:
        if _known_timezone(raw):
            return raw
        errs.fail("timezone", f"{raw!r} is not an IANA timezone (e.g. America/Chicago)")
    return derive_timezone(region, country, phone)


@lru_cache(maxsize=1024)
def _known_timezone(name: str) -> bool:
    # A file names a handful of zones; asking zoneinfo once per name is enough.
    return is_known_timezone(name)
