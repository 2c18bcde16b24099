"""Installment counts: "6 months", "3 payments", "split into 4", "en 6 cuotas"."""

from __future__ import annotations

import re

from nlu.extractors.frequency import extract_frequencies
from nlu.extractors.match import Match
from nlu.extractors.numbers import NUMBER_WORDS, to_number

_N = rf"(?P<n>\d{{1,2}}|{NUMBER_WORDS})"
_KIND = r"(?:(?:monthly|weekly|bi-?weekly|equal|small|smaller|separate|mensuales|semanales)\s+)?"
_UNIT = (
    r"(?:payments|pmts|installments|instalments|installs|parts|pieces|chunks|"
    r"(?P<months>months|mos|mo|meses)|"
    r"cuotas|pagos|plazos|partes|mensualidades|quincenas|abonos|exhibiciones)"
)
_PATTERNS = [
    re.compile(rf"\b(?:split|divide|break|spread|dividir|dividirlo|partir|partirlo)\b"
               rf"(?:\s+\w+){{0,3}}?\s+(?:in|into|over|en|entre)\s+{_N}\b(?!\s*(?:%|weeks|days))",
               re.I),
    re.compile(rf"(?<![$€£.,])\b{_N}(?:\s+|(?<=\d)(?=mos?\b)){_KIND}{_UNIT}\b"
               r"(?!\s+(?:ago|from now|late|behind|atrasad))", re.I),
]
_MAX = 120
# Payments in a year, for "weekly for 3 months": 13 weekly payments, not 3.
_PER_YEAR = {"monthly": 12, "weekly": 52, "biweekly": 26}


def extract_installments(text: str) -> list[Match]:
    """Every installment-count candidate in `text`."""
    found = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            value = to_number(m.group("n"))
            if value is None or value != int(value):
                continue
            count: int | None = int(value)
            if m.groupdict().get("months"):
                count = _months_to_count(int(value), text)
            if count is not None and 2 <= count <= _MAX:
                found.append(Match("installments", m.start(), m.end(), str(count)))
    return found


def _months_to_count(months: int, text: str) -> int | None:
    """"N months" counts monthly payments unless the message names another frequency; two
    frequencies at once ("weekly ... monthly") leave the count unknown."""
    found = extract_frequencies(text)
    # "twice a month" is biweekly, whatever its "a month" says alone.
    named = {f.value for f in found if not any(
        o.start <= f.start and f.end <= o.end and o.length > f.length for o in found)}
    if len(named) > 1:
        return None
    per_year = _PER_YEAR[named.pop()] if named else 12
    # Rounded up: more payments, each smaller, never larger than the debtor asked.
    return -(-months * per_year // 12)
