"""Mask personal data in debtor text before it becomes a training example."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

PLACEHOLDERS = {"email": "<email>", "phone": "<phone>", "number": "<number>", "name": "<name>"}
# Order matters: an email holds digits, a phone is a digit run; earlier kinds win overlaps.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("number", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),  # US SSN shape
    ("phone", re.compile(
        r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\w)")),
    ("phone", re.compile(r"(?<![\w+])\+\d(?:[\s.-]?\d){7,14}(?!\w)")),
    ("phone", re.compile(r"(?<![\w.-])\d{3}[\s.-]\d{4}(?![\w.-])")),
    ("number", re.compile(r"(?<!\w)\d{3,4}(?:[ -]\d{3,4}){2,}(?!\w)")),  # card-like groups
    ("number", re.compile(r"\d{6,}")),
)
_MIN_NAME_PART = 2


@dataclass(frozen=True)
class Masked:
    """Masked text and the replaced spans of the original: (start, end, kind)."""

    text: str
    original: str
    replaced: tuple[tuple[int, int, str], ...] = ()

    @property
    def kinds(self) -> list[str]:
        """What was masked, in order of appearance (for the trainer to see)."""
        return [kind for _, _, kind in self.replaced]

    def shift(self, start: int, end: int) -> tuple[int, int] | None:
        """Where an original span lands in the masked text; None if it touches masked text."""
        delta = 0
        for r_start, r_end, kind in self.replaced:
            if r_start < end and start < r_end:
                return None
            if r_end <= start:
                delta += len(PLACEHOLDERS[kind]) - (r_end - r_start)
        return start + delta, end + delta


def mask_pii(text: str, names: Iterable[str] = ()) -> Masked:
    """Replace emails, phone numbers, long digit runs and the given names with placeholders."""
    found: list[tuple[int, int, str]] = []
    for kind, pattern in (*_PATTERNS, *_name_patterns(names)):
        for match in pattern.finditer(text):
            if not any(s < match.end() and match.start() < e for s, e, _ in found):
                found.append((match.start(), match.end(), kind))
    found.sort()
    parts, cursor = [], 0
    for start, end, kind in found:
        parts += [text[cursor:start], PLACEHOLDERS[kind]]
        cursor = end
    parts.append(text[cursor:])
    return Masked("".join(parts), text, tuple(found))


def _name_patterns(names: Iterable[str]) -> list[tuple[str, re.Pattern[str]]]:
    parts = set()
    for name in names:
        full = " ".join(name.split())
        if full:
            parts.add(full)
            parts.update(p for p in full.split() if len(p) >= _MIN_NAME_PART)
    # Longest first, so "Ana Ruiz" is one placeholder rather than two.
    return [("name", re.compile(rf"(?<!\w){re.escape(p)}(?!\w)", re.IGNORECASE))
            for p in sorted(parts, key=len, reverse=True)]
