"""Rule-based entity extractors (amount, date, installments, frequency) and their combination."""

from __future__ import annotations

from datetime import datetime

from nlu.extractors.amount import extract_amounts
from nlu.extractors.calendar import local_today
from nlu.extractors.date import extract_dates
from nlu.extractors.frequency import extract_frequencies
from nlu.extractors.installments import extract_installments
from nlu.extractors.match import Match
from nlu.language import detect_language
from nlu.types import Entity

_PRIORITY = {"date": 0, "installments": 1, "frequency": 2, "amount": 3}


def extract_entities(
    text: str, *, reference_time: datetime, timezone: str | None = None,
    language: str | None = None,
) -> tuple[Entity, ...]:
    """All entities in `text`; overlapping candidates resolve to the longest span."""
    today = local_today(reference_time, timezone)
    language = language or detect_language(text)
    candidates = [
        *extract_dates(text, today, language), *extract_installments(text),
        *extract_frequencies(text), *extract_amounts(text),
    ]
    chosen = resolve_overlaps(candidates)
    return tuple(
        Entity(m.entity, m.value, m.start, m.end, text[m.start:m.end], "parley", m.currency)
        for m in chosen
    )


def resolve_overlaps(candidates: list[Match]) -> list[Match]:
    """Keep the longest candidates that do not overlap, in text order."""
    ranked = sorted(candidates, key=lambda m: (-m.length, _PRIORITY[m.entity], m.start))
    kept: list[Match] = []
    for match in ranked:
        if all(match.end <= k.start or k.end <= match.start for k in kept):
            kept.append(match)
    return sorted(kept, key=lambda m: m.start)
