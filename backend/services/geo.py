"""Phone numbers to E.164, and a debtor's timezone from their state or their phone number."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

# The predominant zone of each US state/territory; states split across zones use the zone
# most of their population lives in (the compliance gate also intersects with the phone's).
US_STATE_TIMEZONES = {
    "AL": "America/Chicago",
    "AK": "America/Anchorage",
    "AZ": "America/Phoenix",
    "AR": "America/Chicago",
    "CA": "America/Los_Angeles",
    "CO": "America/Denver",
    "CT": "America/New_York",
    "DE": "America/New_York",
    "DC": "America/New_York",
    "FL": "America/New_York",
    "GA": "America/New_York",
    "HI": "Pacific/Honolulu",
    "ID": "America/Boise",
    "IL": "America/Chicago",
    "IN": "America/Indiana/Indianapolis",
    "IA": "America/Chicago",
    "KS": "America/Chicago",
    "KY": "America/New_York",
    "LA": "America/Chicago",
    "ME": "America/New_York",
    "MD": "America/New_York",
    "MA": "America/New_York",
    "MI": "America/Detroit",
    "MN": "America/Chicago",
    "MS": "America/Chicago",
    "MO": "America/Chicago",
    "MT": "America/Denver",
    "NE": "America/Chicago",
    "NV": "America/Los_Angeles",
    "NH": "America/New_York",
    "NJ": "America/New_York",
    "NM": "America/Denver",
    "NY": "America/New_York",
    "NC": "America/New_York",
    "ND": "America/Chicago",
    "OH": "America/New_York",
    "OK": "America/Chicago",
    "OR": "America/Los_Angeles",
    "PA": "America/New_York",
    "RI": "America/New_York",
    "SC": "America/New_York",
    "SD": "America/Chicago",
    "TN": "America/Chicago",
    "TX": "America/Chicago",
    "UT": "America/Denver",
    "VT": "America/New_York",
    "VA": "America/New_York",
    "WA": "America/Los_Angeles",
    "WV": "America/New_York",
    "WI": "America/Chicago",
    "WY": "America/Denver",
    "PR": "America/Puerto_Rico",
    "GU": "Pacific/Guam",
    "VI": "America/St_Thomas",
}
DEFAULT_TIMEZONE = "America/New_York"


class InvalidPhone(ValueError):
    """A phone number that cannot be a real, dialable number."""


def normalize_phone(raw: str, default_region: str = "US") -> str:
    """Return `raw` as E.164 (+15551234567) or raise InvalidPhone with the reason."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number ({exc.args[0] if exc.args else exc})") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_timezones(e164: str) -> tuple[str, ...]:
    """The zones a number's prefix may be in (several for mobile or national numbers)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = phone_timezone.time_zones_for_number(number)
    return tuple(z for z in zones if z != "Etc/Unknown")


def debtor_zone(name: str | None) -> ZoneInfo:
    """The debtor's zone, or DEFAULT_TIMEZONE when it is unknown ("") or not a real zone."""
    # An unknown zone holds every outbound message at the gate; days and windows still need one.
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def debtor_today(at: datetime, name: str | None) -> date:
    """The debtor's calendar day at `at`: offers, agreements and campaign steps are judged by it."""
    return at.astimezone(debtor_zone(name)).date()


def is_known_timezone(name: str) -> bool:
    """True when `name` is an IANA zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def derive_timezone(region: str | None, country: str, phone: str | None) -> str | None:
    """The debtor's zone: from the US state, else the phone's only zone, else None (unknown)."""
    if country.upper() == "US" and region and region.upper() in US_STATE_TIMEZONES:
        return US_STATE_TIMEZONES[region.upper()]
    zones = phone_timezones(phone) if phone else ()
    # Picking one of several zones would invent a location; the gate blocks an unknown one
    # (compliance.md A.1 item 3) and intersects the phone's zones itself when they are few.
    return zones[0] if len(zones) == 1 else None
