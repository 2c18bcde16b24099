"""Installment counts: "6 months", "3 payments", "split into 4", "en 6 cuotas"."""

from __future__ import annotations

import re

from nlu.extractors.match import Match
from nlu.extractors.numbers import NUMBER_WORDS, to_number

_N = rf"(?P<n>\d{{1,2}}|{NUMBER_WORDS})"
_KIND = r"(?:(?:monthly|weekly|bi-?weekly|equal|small|smaller|separate|mensuales|semanales)\s+)?"
_UNIT = (
    r"(?:payments|pmts|installments|instalments|installs|parts|pieces|chunks|months|mos|"
    r"cuotas|pagos|plazos|partes|mensualidades|meses|quincenas|abonos|exhibiciones)"
)
_PATTERNS = [
    re.compile(rf"\b(?:split|divide|break|spread|dividir|dividirlo|partir|partirlo)\b"
               rf"(?:\s+\w+){{0,3}}?\s+(?:in|into|over|en|entre)\s+{_N}\b(?!\s*(?:%|weeks|days))",
               re.I),
    re.compile(rf"(?<![$€£.,])\b{_N}\s+{_KIND}{_UNIT}\b"
               r"(?!\s+(?:ago|from now|late|behind|atrasad))", re.I),
]
_MAX = 120


def extract_installments(text: str) -> list[Match]:
    """Every installment-count candidate in `text`."""
    found = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            value = to_number(m.group("n"))
            if value is not None and value == int(value) and 2 <= value <= _MAX:
                found.append(Match("installments", m.start(), m.end(), str(int(value))))
    return found
