"""US state and territory names and their two-letter codes, for the `state` column."""

from __future__ import annotations

import re

# No installed package names US subdivisions (no pycountry; `phonenumbers` has none), so the
# USPS names: the 50 states, DC, and the territories the timezone table knows.
US_STATE_CODES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
    "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI",
    "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ",
    "new mexico": "NM", "new york": "NY", "north carolina": "NC", "north dakota": "ND",
    "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN",
    "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR",
    "guam": "GU", "u.s. virgin islands": "VI", "virgin islands": "VI",
}
US_CODES = frozenset(US_STATE_CODES.values())
REGION_CODE_RE = re.compile(r"[A-Z]{2}")
SPACES_RE = re.compile(r"\s+")


def region_code(raw: str, country: str) -> str | None:
    """The two-letter code for a state given by code or (US) full name; None if neither."""
    code = raw.upper()
    if country == "US":
        if code in US_CODES:
            return code
        return US_STATE_CODES.get(SPACES_RE.sub(" ", raw).casefold())
    return code if REGION_CODE_RE.fullmatch(code) else None
