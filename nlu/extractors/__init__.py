"""Rule-based entity extractors (amount, date, installments, frequency) and their combination."""

from __future__ import annotations

from datetime import datetime

from nlu.extractors.amount import extract_amounts
from nlu.extractors.calendar import local_today
from nlu.extractors.date import extract_dates, impossible_days
from nlu.extractors.frequency import extract_frequencies
from nlu.extractors.identifiers import outside_identifiers
from nlu.extractors.installments import extract_installments
from nlu.extractors.match import Match
from nlu.language import detect_language
from nlu.types import Entity

_PRIORITY = {"date": 0, "installments": 1, "frequency": 2, "amount": 3}


def extract_entities(
    text: str, *, reference_time: datetime, timezone: str | None = None,
    language: str | None = None,
) -> tuple[Entity, ...]:
    """All entities in `text`; overlapping candidates resolve to the longest span.

    `language` decides how "1.500" reads (1500 in Spanish, no amount in English); phone,
    case and reference numbers ("555-123-4567", "case 23-12345") yield nothing.
    """
    today = local_today(reference_time, timezone)
    language = language or detect_language(text)
    dates = extract_dates(text, today, language)
    candidates = [
        *dates, *extract_installments(text), *extract_frequencies(text),
        *extract_amounts(text, language),
    ]
    # "31 june 1" names June 1 (and 31 more); a lone "feb 30" names nothing at all.
    void = [(s, e) for s, e in impossible_days(text, today, language)
            if not any(d.start < e and s < d.end for d in dates)]
    candidates = [c for c in candidates if not any(s <= c.start and c.end <= e for s, e in void)]
    chosen = resolve_overlaps(candidates, text=text)
    return tuple(
        Entity(m.entity, m.value, m.start, m.end, text[m.start:m.end], "parley", m.currency)
        for m in chosen
    )


def resolve_overlaps(candidates: list[Match], *, text: str | None = None) -> list[Match]:
    """Keep the longest candidates that do not overlap, in text order.

    With `text`, candidates touching a phone, case or reference number of it are dropped first.
    """
    if text is not None:
        candidates = outside_identifiers(candidates, text)
    ranked = sorted(candidates, key=lambda m: (-m.length, _PRIORITY[m.entity], m.start))
    kept: list[Match] = []
    for match in ranked:
        if all(match.end <= k.start or k.end <= match.start for k in kept):
            kept.append(match)
    return sorted(kept, key=lambda m: m.start)
