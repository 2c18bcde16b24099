"""Phone numbers to E.164, and a debtor's timezone from their address or their phone number."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

# The predominant zone of each US state/territory: the one zone stored for a debtor whose
# address does not say more. A state split across zones also has every zone it spans in
# US_SPLIT_STATE_ZIP3, which the compliance gate intersects (compliance.md A.1 item 3).
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

# Every zone of each US state that spans more than one, with the 3-digit ZIP prefixes in it;
# a prefix listed under two zones straddles the line and gets both. Made from the ZIP data of
# the `zipcodes` package (3.0.0; data CC BY 4.0), zones that keep the same clock folded into
# one; NV 898 added by hand (West Wendover and Jackpot keep Mountain time).
US_SPLIT_STATE_ZIP3: dict[str, dict[str, str]] = {
    "AK": {"America/Anchorage": "995 996 997 998 999", "America/Adak": "995"},
    "AZ": {"America/Phoenix": "850 851 852 853 855 856 857 859 860 863 864 865",
           "America/Denver": "860 865"},
    "FL": {"America/New_York": "320 321 322 323 324 326 327 328 329 330 331 332 333 334 335 "
                               "336 337 338 339 341 342 344 346 347 349",
           "America/Chicago": "324 325"},
    "ID": {"America/Boise": "832 833 834 835 836 837", "America/Los_Angeles": "835 838"},
    "IN": {"America/Indiana/Indianapolis": "460 461 462 465 466 467 468 469 470 471 472 473 "
                                           "474 475 478 479",
           "America/Chicago": "463 464 465 469 475 476 477 479"},
    "KS": {"America/Chicago": "660 661 662 664 665 666 667 668 669 670 671 672 673 674 675 676 "
                              "677 678 679",
           "America/Denver": "677 678"},
    "KY": {"America/New_York": "400 401 402 403 404 405 406 407 408 409 410 411 412 413 414 "
                               "415 416 417 418 425 426 427",
           "America/Chicago": "401 420 421 422 423 424 426 427"},
    "MI": {"America/Detroit": "480 481 482 483 484 485 486 487 488 489 490 491 492 493 494 495 "
                              "496 497 498 499",
           "America/Chicago": "498 499"},
    "ND": {"America/Chicago": "580 581 582 583 584 585 586 587 588", "America/Denver": "585 586"},
    "NE": {"America/Chicago": "680 681 683 684 685 686 687 688 689 690 691 692",
           "America/Denver": "690 691 692 693"},
    "NV": {"America/Los_Angeles": "889 890 891 893 894 895 897 898", "America/Denver": "898"},
    "OR": {"America/Los_Angeles": "970 971 972 973 974 975 976 977 978 979",
           "America/Denver": "979"},
    "SD": {"America/Chicago": "570 571 572 573 574 575 576", "America/Denver": "575 576 577"},
    "TN": {"America/Chicago": "370 371 372 373 374 375 377 380 381 382 383 384 385",
           "America/New_York": "373 374 376 377 378 379"},
    "TX": {"America/Chicago": "733 739 750 751 752 753 754 755 756 757 758 759 760 761 762 763 "
                              "764 765 766 767 768 769 770 772 773 774 775 776 777 778 779 780 "
                              "781 782 783 784 785 786 787 788 789 790 791 792 793 794 795 796 "
                              "797 798 799",
           "America/Denver": "798 799 885"},
}
US_ZIP_RE = re.compile(r"(\d{3})\d{2}(?:-?\d{4})?")


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
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder of zones
        return ZoneInfo(DEFAULT_TIMEZONE)


def debtor_today(at: datetime, name: str | None) -> date:
    """The debtor's calendar day at `at`: offers, agreements and campaign steps are judged by it."""
    return at.astimezone(debtor_zone(name)).date()


def is_known_timezone(name: str) -> bool:
    """True when `name` is an IANA zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder of zones
        return False
    return True


def derive_timezone(
    region: str | None, country: str, phone: str | None, postal_code: str | None = None
) -> str | None:
    """The debtor's zone: the ZIP's, else the state's predominant one, else the phone's only one.

    None when nothing tells (unknown).
    """
    state = _us_state(region, country)
    if state is not None:
        from_zip = _zip_zones(state, postal_code)
        return from_zip[0] if len(from_zip) == 1 else US_STATE_TIMEZONES[state]
    zones = phone_timezones(phone) if phone else ()
    # Picking one of several zones would invent a location; the gate blocks an unknown one
    # (compliance.md A.1 item 3) and intersects the phone's zones itself when they are few.
    return zones[0] if len(zones) == 1 else None


def address_zones(region: str | None, country: str | None, postal_code: str | None
                  ) -> tuple[str, ...]:
    """Every zone a US address may be in: its ZIP's when known, else every zone of its state."""
    state = _us_state(region, country)
    if state is None:
        return ()
    split = US_SPLIT_STATE_ZIP3.get(state)
    if split is None:
        return (US_STATE_TIMEZONES[state],)
    return _zip_zones(state, postal_code) or tuple(split)


def is_state_default_zone(name: str | None, region: str | None, country: str | None) -> bool:
    """True when `name` is empty or the zone derive_timezone stores for the state without a ZIP.

    Such a zone may be the state's guess rather than the debtor's: the gate then adds every
    zone the address suggests (an explicit entry of the same zone cannot be told apart).
    """
    state = _us_state(region, country)
    return not name or (state is not None and name == US_STATE_TIMEZONES[state])


def _us_state(region: str | None, country: str | None) -> str | None:
    state = (region or "").strip().upper()
    us = (country or "").upper() == "US"
    return state if us and state in US_STATE_TIMEZONES else None


def _zip_zones(state: str, postal_code: str | None) -> tuple[str, ...]:
    """A split state's ZIP's zones; () when the ZIP is absent, malformed or not the state's."""
    match = US_ZIP_RE.fullmatch((postal_code or "").strip())
    return _ZIP3_ZONES.get((state, match.group(1)), ()) if match else ()


def _zip3_index() -> dict[tuple[str, str], tuple[str, ...]]:
    index: dict[tuple[str, str], tuple[str, ...]] = {}
    for state, by_zone in US_SPLIT_STATE_ZIP3.items():
        for zone, prefixes in by_zone.items():
            for prefix in prefixes.split():
                index[state, prefix] = (*index.get((state, prefix), ()), zone)
    return index


_ZIP3_ZONES = _zip3_index()
