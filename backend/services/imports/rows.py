"""Validating one CSV row into an AccountRow, or the precise reasons it is invalid."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision, list_currencies
from phonenumbers import PhoneNumber, is_valid_number_for_region

from backend.services.geo import InvalidPhone, derive_timezone, is_known_timezone, normalize_phone

# Currency code -> its decimals, looked up once (babel's lookup costs more than a row's parse).
CURRENCY_PRECISION = {code: get_currency_precision(code) for code in list_currencies()}
CURRENCIES = frozenset(CURRENCY_PRECISION)
LANGUAGES = frozenset({"en", "es"})
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COUNTRY_RE = re.compile(r"[A-Z]{2}")
MAX_BALANCE = Decimal("9999999999999999.99")
CENT = Decimal("0.01")
# A North American number written plainly: optional +1 or 1, then NXX-NXX-XXXX digits.
NANP_RE = re.compile(r"(\+1|1)?([2-9]\d{9})")
NANP_PUNCTUATION = str.maketrans("", "", " ().-")


@dataclass(frozen=True)
class RowError:
    """Why one field of one row was rejected; `row` counts the header as row 1."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


@dataclass(frozen=True)
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


class _Collector:
    """Collects the errors of one row while its fields are parsed."""

    def __init__(self, row: int) -> None:
        self.row = row
        self.errors: list[RowError] = []

    def fail(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.row, column, reason))


def validate_row(row_number: int, raw: dict[str, str | None]) -> AccountRow | list[RowError]:
    """Parse every field; return the row, or every problem found in it."""
    errs = _Collector(row_number)
    values = {k: (v or "").strip() for k, v in raw.items() if k}
    for name in ("external_ref", "creditor", "portfolio", "debtor_name"):
        if not values.get(name):
            errs.fail(name, "required value is empty")
    country = (values.get("country") or "US").upper()
    if not COUNTRY_RE.fullmatch(country):
        errs.fail("country", f"{country!r} is not a two-letter ISO country code")
    phone = _phone(values.get("phone", ""), country, errs)
    email = values.get("email") or None
    if email and not EMAIL_RE.match(email):
        errs.fail("email", f"{email!r} is not an email address")
    currency = _currency(values.get("currency", ""), errs)
    balance = _money("balance", values.get("balance", ""), errs, required=True)
    original = _money("original_balance", values.get("original_balance", ""), errs)
    due = _date("due_date", values.get("due_date", ""), errs, required=True)
    dob = _date("date_of_birth", values.get("date_of_birth", ""), errs)
    if dob and due and dob > date.today():
        errs.fail("date_of_birth", f"{dob.isoformat()} is in the future")
    region = values.get("state", "").upper() or None
    timezone = _timezone(values.get("timezone", ""), region, country, phone, errs)
    language = (values.get("preferred_language") or "en").lower()
    if language not in LANGUAGES:
        errs.fail("preferred_language", f"{language!r} is not one of {sorted(LANGUAGES)}")
    if errs.errors or balance is None or due is None or currency is None:
        return errs.errors
    return AccountRow(
        row=row_number,
        external_ref=values["external_ref"],
        creditor=values["creditor"],
        portfolio=values["portfolio"],
        debtor_name=values["debtor_name"],
        phone=phone,
        email=email,
        date_of_birth=dob,
        postal_code=values.get("postal_code") or None,
        region=region,
        country=country,
        timezone=timezone,
        currency=currency,
        balance=balance,
        original_balance=original if original is not None else balance,
        due_date=due,
        preferred_language=language,
    )


def _phone(raw: str, country: str, errs: _Collector) -> str | None:
    if not raw:
        return None
    fast = _us_e164(raw, country)
    if fast:
        return fast
    try:
        return normalize_phone(raw, country)
    except InvalidPhone as exc:
        errs.fail("phone", f"{raw!r}: {exc}")
        return None


def _us_e164(raw: str, country: str) -> str | None:
    """E.164 for a plainly written, valid US number; None means "ask `normalize_phone`".

    Gives the answer `phonenumbers.parse` + `is_valid_number` give for these inputs at a
    third of the cost (the parse was most of an import's validation time). US is the first
    region of calling code 1 and has no leading-digit rule, so a number valid for the US is
    valid; anything else (Canada, extensions, letters, other countries) takes the full path.
    """
    match = NANP_RE.fullmatch(raw.translate(NANP_PUNCTUATION))
    if match is None or (country != "US" and match.group(1) != "+1"):
        return None
    national = match.group(2)
    number = PhoneNumber(country_code=1, national_number=int(national))
    if not is_valid_number_for_region(number, "US"):
        return None
    return f"+1{national}"


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


def _money(column: str, raw: str, errs: _Collector, required: bool = False) -> Decimal | None:
    if not raw:
        if required:
            errs.fail(column, "required value is empty")
        return None
    try:
        amount = Decimal(raw.replace(",", "").replace("$", ""))
    except InvalidOperation:
        errs.fail(column, f"{raw!r} is not a number")
        return None
    if not amount.is_finite():
        errs.fail(column, f"{raw!r} is not a finite amount")
    elif amount < 0:
        errs.fail(column, f"{raw} is negative")
    elif amount != amount.quantize(CENT):
        errs.fail(column, f"{raw} has more than 2 decimals")
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
        return date.fromisoformat(raw)
    except ValueError:
        errs.fail(column, f"{raw!r} is not a real date in YYYY-MM-DD form")
        return None


def _timezone(
    raw: str, region: str | None, country: str, phone: str | None, errs: _Collector
) -> str:
    if raw:
        if is_known_timezone(raw):
            return raw
        errs.fail("timezone", f"{raw!r} is not an IANA timezone (e.g. America/Chicago)")
    return derive_timezone(region, country, phone)
