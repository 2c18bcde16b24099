"""Validating one CSV row into an AccountRow, or the precise reasons it is invalid."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import get_currency_precision, list_currencies
from sqlalchemy.orm import InstrumentedAttribute

from backend.db.models import Account, ContactPoint, Creditor, Debtor, Portfolio
from backend.services.geo import InvalidPhone, derive_timezone, is_known_timezone, normalize_phone
from backend.services.imports.phones import us_e164
from backend.services.imports.regions import region_code

# Currency code -> its decimals, looked up once (babel's lookup costs more than a row's parse).
CURRENCY_PRECISION = {code: get_currency_precision(code) for code in list_currencies()}
# ISO 4217 codes that are not money a debt can be owed in: precious metals, bond-market and
# fund units of account, the testing code and XXX ("no currency").
NOT_MONEY = frozenset({
    "XAD", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XEU", "XFO", "XFU", "XPD",
    "XPT", "XRE", "XSU", "XTS", "XUA", "XXX",
})
CURRENCIES = frozenset(CURRENCY_PRECISION) - NOT_MONEY
LANGUAGES = frozenset({"en", "es"})
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# ISO 3166-1 alpha-2: babel's two-letter territories less the codes ISO only reserves
# (AC, CP, CQ, DG, EA, EU, EZ, IC, TA, UN) or leaves to users (QO, XA, XB, XK, ZZ).
NOT_ISO_COUNTRIES = frozenset({
    "AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "TA", "UN", "QO", "XA", "XB", "XK", "ZZ",
})
COUNTRIES = frozenset(
    code for code in map(str, Locale("en").territories) if len(code) == 2 and code.isalpha()
) - NOT_ISO_COUNTRIES
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
# An instant: a date, a time to the minute (seconds and fractions optional) and its offset.
# A time without an offset names no instant (whose 13:45?), so it is not accepted.
INSTANT_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
UNKNOWN_TIMEZONE = ""
# The text columns stored as written, and the table column each is stored in: a longer value
# PostgreSQL refuses (SQLite would keep it), so the row is refused here, naming its column.
STORED_AS: tuple[tuple[str, InstrumentedAttribute[str] | InstrumentedAttribute[str | None]],
                 ...] = (
    ("external_ref", Account.external_ref),
    ("creditor", Creditor.name),
    ("portfolio", Portfolio.name),
    ("debtor_name", Debtor.full_name),
    ("email", ContactPoint.address),
    ("postal_code", Debtor.postal_code),
    ("timezone", Debtor.timezone),
)
INSTANT_FORM = (
    "a date and time with a UTC offset, e.g. 2026-03-02T13:45:00-05:00 or 2026-03-02T18:45:00Z"
)


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
    # A WhatsApp number (E.164) and when its holder opted in (aware, UTC); both or neither.
    whatsapp: str | None = None
    whatsapp_opt_in_at: datetime | None = None
    # When the debtor consented in writing to electronic contact (aware, UTC), if the file says.
    written_consent_at: datetime | None = None
    # The debtor columns the file left empty: an existing debtor keeps what is stored there.
    blank: frozenset[str] = frozenset()


class _Collector:
    """Collects the errors of one row while its fields are parsed."""

    def __init__(self, row: int) -> None:
        self.row = row
        self.errors: list[RowError] = []

    def fail(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.row, column, reason))


def validate_row(
    row_number: int,
    raw: dict[str, str | None],
    today: date | None = None,
    *,
    now: datetime | None = None,
) -> AccountRow | list[RowError]:
    """Parse every field; return the row, or every problem found in it.

    `today` and `now` come from the caller's clock; without them a date of birth and a
    WhatsApp opt-in are not checked against the future (given only `today`, an opt-in is
    checked by its UTC date).
    """
    values = {k: (v or "").strip() for k, v in raw.items() if k}
    return validate_values(row_number, values, today, now=now)


def validate_values(
    row_number: int,
    values: dict[str, str],
    today: date | None = None,
    *,
    now: datetime | None = None,
) -> AccountRow | list[RowError]:
    """`validate_row` for values already stripped (a missing column may be absent)."""
    if today is None and now is not None:
        today = now.date()
    errs = _Collector(row_number)
    get = values.get
    for name in ("external_ref", "creditor", "portfolio", "debtor_name"):
        if not get(name):
            errs.fail(name, "required value is empty")
    _check_lengths(values, errs)
    country = (get("country") or "US").upper()
    if country not in COUNTRIES:
        errs.fail("country", f"{country!r} is not an ISO 3166-1 two-letter country code")
    phone = _phone("phone", get("phone", ""), country, errs)
    whatsapp, opted_in = _whatsapp(values, country, errs, today, now)
    raw_consent = get("written_consent_at")
    consented = (_instant("written_consent_at", raw_consent, errs, today, now)
                 if raw_consent else None)
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
    timezone = _timezone(get("timezone", ""), region, country, phone or whatsapp, errs,
                         get("postal_code") or None)
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
        whatsapp,
        opted_in,
        consented,
        _blank_fields(
            not get("date_of_birth"), not get("postal_code"), not get("state"),
            not get("country"), not get("timezone") and not (get("state") and timezone),
            not get("preferred_language"), not raw_consent,
        ),
    )


def _max_length(column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None]) -> int:
    """The length a model declares for a String column (the schema is the one truth)."""
    length = getattr(column.expression.type, "length", None)
    assert isinstance(length, int), column
    return length


MAX_LENGTHS = tuple((name, _max_length(column)) for name, column in STORED_AS)


def _check_lengths(values: dict[str, str], errs: _Collector) -> None:
    """Refuse a value longer than its database column holds (it is not echoed back)."""
    for name, limit in MAX_LENGTHS:
        value = values.get(name)
        if value and len(value) > limit:
            errs.fail(name, f"{len(value)} characters long; at most {limit} fit")


@lru_cache(maxsize=64)
def _blank_fields(
    dob: bool, postal_code: bool, state: bool, country: bool, timezone: bool, language: bool,
    written_consent: bool,
) -> frozenset[str]:
    """The debtor columns a row leaves to what is stored (`timezone`: not given nor from state).

    A timezone derived from the row's state is the file's word on where the debtor lives; one
    derived only from the phone, or none at all, must not replace a stored zone.
    """
    named = (
        ("date_of_birth", dob),
        ("postal_code", postal_code),
        ("region", state),
        ("country", country),
        ("timezone", timezone),
        ("preferred_language", language),
        # An empty cell never withdraws a consent already recorded: revoking is the debtor's
        # act (an opt-out), not a file's omission.
        ("written_consent_at", written_consent),
    )
    return frozenset(name for name, empty in named if empty)


def _phone(column: str, raw: str, country: str, errs: _Collector) -> str | None:
    if not raw:
        return None
    fast = us_e164(raw, country)
    if fast:
        return fast
    try:
        return normalize_phone(raw, country)
    except InvalidPhone as exc:
        errs.fail(column, f"{raw!r}: {exc}")
        return None


def _whatsapp(
    values: dict[str, str], country: str, errs: _Collector, today: date | None, now: datetime | None
) -> tuple[str | None, datetime | None]:
    """The WhatsApp number and its opt-in time: both, or neither (compliance.md D item 53).

    A business may message a person first on WhatsApp only with their opt-in, so a number
    without one is refused rather than imported as if it could be used.
    """
    raw, raw_at = values.get("whatsapp_phone", ""), values.get("whatsapp_opt_in_at", "")
    if not raw and not raw_at:
        return None, None
    number = _phone("whatsapp_phone", raw, country, errs)
    if raw_at:
        opted_in = _instant("whatsapp_opt_in_at", raw_at, errs, today, now)
    else:
        opted_in = None
        errs.fail("whatsapp_opt_in_at", "required when whatsapp_phone is given: WhatsApp "
                  "lets a business message a person first only after they opted in; write "
                  f"when the opt-in was collected, as {INSTANT_FORM}")
    if not raw:
        errs.fail("whatsapp_phone", "empty, but whatsapp_opt_in_at is given: write the number "
                  "the opt-in was collected for, or leave both empty")
    return number, opted_in


def _instant(
    column: str, raw: str, errs: _Collector, today: date | None, now: datetime | None
) -> datetime | None:
    """An aware UTC datetime from `raw`, not after the caller's clock."""
    try:
        if not INSTANT_RE.fullmatch(raw):
            raise ValueError(raw)
        # fromisoformat takes "Z" since Python 3.11; astimezone may overflow near year 1.
        instant = datetime.fromisoformat(raw).astimezone(UTC)
    except (ValueError, OverflowError):
        errs.fail(column, f"{raw!r} is not {INSTANT_FORM}")
        return None
    if (now is not None and instant > now) or (
        now is None and today is not None and instant.date() > today
    ):
        errs.fail(column, f"{raw} is in the future")
        return None
    return instant


def _currency(raw: str, errs: _Collector) -> str | None:
    code = raw.upper()
    if not code:
        errs.fail("currency", "required value is empty")
        return None
    if code in NOT_MONEY:
        errs.fail("currency", f"{code} is not a currency a debt can be owed in")
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
    # Decimals are counted as written, not as valued: "1.250" is 1250 in much of Europe, and
    # reading it as 1.25 would store a debt a thousand times too small. Exports often write
    # every amount with two decimals ("1250.00" yen); two digits are never a thousands group.
    written = len(digits.partition(".")[2])
    if amount and digits != raw:
        errs.fail(column, f"{raw} is negative")
    elif written > max(places, 2) or amount != amount.quantize(Decimal(1).scaleb(-places)):
        errs.fail(column, _too_many_decimals(raw, written, currency, places))
    elif amount > MAX_BALANCE:
        errs.fail(column, f"{raw} is too large")
    else:
        return amount.quantize(CENT)
    return None


def _too_many_decimals(raw: str, written: int, currency: str | None, places: int) -> str:
    units = f"{currency} has {places}" if currency else f"at most {places}"
    reason = f"{raw} has more decimals than the currency allows ({units})"
    if written == 3 and "," not in raw:
        reason += f"; the . looks like a thousands separator: write {raw.replace('.', ',')}"
    return reason


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
    raw: str, region: str | None, country: str, phone: str | None, errs: _Collector,
    postal_code: str | None = None,
) -> str:
    if raw:
        if _known_timezone(raw):
            return raw
        errs.fail("timezone", f"{raw!r} is not an IANA timezone (e.g. America/Chicago)")
    # The column is NOT NULL: an empty zone is the unknown one the compliance gate blocks on.
    # The ZIP's zone where the state is split (Pensacola is on Central time, Florida mostly
    # Eastern): the planner's calendar day and the gate both read it.
    return derive_timezone(region, country, phone, postal_code) or UNKNOWN_TIMEZONE


@lru_cache(maxsize=1024)
def _known_timezone(name: str) -> bool:
    # A file names a handful of zones; asking zoneinfo once per name is enough.
    return is_known_timezone(name)
