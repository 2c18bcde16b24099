"""Payment frequency: weekly, biweekly or monthly, in any wording, EN and ES."""

from __future__ import annotations

import re

from nlu.extractors.match import Match

_RULES = [
    ("biweekly", r"bi-?weekly|every\s+(?:2|two|other)\s+weeks?|every\s+other\s+week|"
                 r"fortnightly|every\s+fortnight|twice\s+a\s+month|2x\s+a\s+month|bi\s+weekly|"
                 r"every\s+other\s+(?:fri|friday|payday)|dos\s+veces\s+al\s+mes|"
                 r"quincenal(?:es|mente)?|cada\s+(?:15|quince)\s+d[ií]as|"
                 r"cada\s+(?:2|dos)\s+semanas|cada\s+quincena|por\s+quincena|a\s+la\s+quincena|"
                 r"cada\s+catorcena|catorcenal(?:es)?"),
    ("weekly", r"weekly|every\s+week|each\s+week|per\s+week|a\s+week|"
               r"per\s+wk|a\s+wk|every\s+wk|once\s+a\s+week|wkly|semanal(?:es|mente)?|"
               r"cada\s+(?:8|ocho)\s+d[ií]as|every\s+(?:fri|friday)|"
               r"cada\s+semana|por\s+semana|a\s+la\s+semana|todas\s+las\s+semanas"),
    ("monthly", r"monthly|every\s+month|each\s+month|per\s+month|a\s+month|"
                r"per\s+mo|a\s+mo|once\s+a\s+month|mensual(?:es|mente)?|al\s+mes|por\s+mes|"
                r"cada\s+mes|todos\s+los\s+meses|mes\s+a\s+mes|x\s+mes"),
]
# "20/mo", "50/wk": a slash right after the amount reads as "per".
_PER = [("weekly", r"/\s?(?:wk|week|semana)"), ("monthly", r"/\s?(?:mo|month|mes)")]
_PATTERNS = [
    *((name, re.compile(rf"(?<!\w)(?:{alt})(?!\w)", re.I)) for name, alt in _RULES),
    *((name, re.compile(rf"{alt}(?!\w)", re.I)) for name, alt in _PER),
]


def extract_frequencies(text: str) -> list[Match]:
    """Every frequency candidate in `text`."""
    return [
        Match("frequency", m.start(), m.end(), name)
        for name, pattern in _PATTERNS
        for m in pattern.finditer(text)
    ]
