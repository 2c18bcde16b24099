"""Card numbers, security codes, card expiries and SSNs removed from what debtors type."""

from __future__ import annotations

import re
from dataclasses import dataclass

# PCI DSS 3.3.1 / 3.5.1: no security code kept at all, no readable card number where stored;
# compliance.md item 74: no full card numbers or SSNs in chat.
# The NLU reads the markers: "removed" made it read "[card number removed]" as an opt-out
# ("remove me"), so a debtor sending card data was unsubscribed.
MARKERS = {
    "card_number": "[card number hidden]",
    "card_expiry": "[expiry hidden]",
    "security_code": "[security code hidden]",
    "ssn": "[SSN hidden]",
}
KINDS = tuple(MARKERS)
_CARD_DIGITS = range(13, 20)  # so a card spans at most 19 digit groups
# How card numbers are grouped when typed: fours (the last group shorter on 13-, 15-, 17-
# and 19-digit cards) or Amex's 4-6-5 and Diners' 4-6-4. Phone-like 3-3-4 is none of them.
_SPLIT_LAYOUTS = frozenset({(4, 6, 5), (4, 6, 4)})
# An expiry word this many characters from a card number belongs to that card.
_NEAR = 40

# Letters or a slash next to the digits do not make a card number less readable; a decimal
# point or a currency sign make it an amount.
_DIGIT_GROUPS = re.compile(r"(?<![\d.,$€£])\d+(?:[ -]\d+)*(?!\d|[.,]\d)")
_GROUP = re.compile(r"\d+")
_EXPIRY_DATE = r"(?:0?[1-9]|1[0-2])\s?[/-]\s?(?:20)?\d{2}(?![\w/]|[.,-]\d)"
_EXPIRY_WORDS = (
    r"(?:\bexp(?:\.|iry|iration|ires|ired|ire|iring)?(?:\s+date)?"
    r"|\bvalid\s+(?:thru|through|until)|\bgood\s+(?:thru|through)"
    r"|\b(?:fecha\s+de\s+)?vencimiento|\bvence|\bcaduca|\bcaducidad|\bexpira(?:ci[oó]n)?)"
)
_EXPIRY_AFTER_WORD = re.compile(
    rf"{_EXPIRY_WORDS}\s*[:#-]?\s*(?:(?:on|in|is|en|es|el)\s+)?"
    rf"(?P<v>{_EXPIRY_DATE}|(?:0[1-9]|1[0-2])\d{{2}}(?!\w))",
    re.IGNORECASE,
)
_EXPIRY_AFTER_CARD = re.compile(
    rf"{re.escape(MARKERS['card_number'])}[\s,;:]{{1,3}}(?P<v>{_EXPIRY_DATE})"
)
# Typed in a row: "4111 1111 1111 1111 12/27 123".
_CODE_AFTER_EXPIRY = re.compile(
    rf"{re.escape(MARKERS['card_expiry'])}[\s,;:]{{1,3}}(?P<v>\d{{3,4}})(?!\w|[.,]\d)"
)
_SECURITY_CODE = re.compile(
    r"(?:\bcv[vc]2?|\bcvn|\bcsc|\bsecurity\s+code|\bc[oó]digo\s+de\s+seguridad"
    r"|\bc[oó]digo\s+cv[vc])(?:\s+(?:number|code|n[uú]mero|no\.?))?\s*"
    r"(?:(?:is|es)\s+)?[:#=]?\s*(?P<v>\d{3,4})(?!\w|[.,]\d)",
    re.IGNORECASE,
)
_SSN_SHAPE = re.compile(r"(?<![\w$.,/-])(?P<v>\d{3}([- ])\d{2}\2\d{4})(?![\w/-]|[.,]\d)")
_SSN_AFTER_WORD = re.compile(
    r"(?:\bssn|\bsocial(?:\s+security)?|\bseguro\s+social)"
    r"(?:\s+(?:number|no\.?|num|n[uú]mero))?\s*(?:(?:is|es)\s+)?[:#]?\s*"
    r"(?P<v>\d{9})(?!\w|[.,]\d)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Redacted:
    """The text with card data replaced by markers, and the kinds removed (in `KINDS` order)."""

    text: str
    kinds: tuple[str, ...] = ()


def redact_card_data(text: str) -> Redacted:
    """`text` without payment card numbers (Luhn-valid), their expiry, security codes or SSNs.

    A card's expiry goes only with a card number in the message: a date alone is a promise,
    a date of birth or an identity answer, and stays.
    """
    found: set[str] = set()
    text = _replace_cards(text, found)
    if "card_number" in found:
        text = _replace(_EXPIRY_AFTER_CARD, text, "card_expiry", found)
        text = _replace_near_card(text, found)
        text = _replace(_CODE_AFTER_EXPIRY, text, "security_code", found)
    text = _replace(_SECURITY_CODE, text, "security_code", found)
    text = _replace(_SSN_SHAPE, text, "ssn", found)
    text = _replace(_SSN_AFTER_WORD, text, "ssn", found)
    return Redacted(text, tuple(kind for kind in KINDS if kind in found))


def luhn_valid(digits: str) -> bool:
    """True when `digits` pass the Luhn check every payment card number passes."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _replace_cards(text: str, found: set[str]) -> str:
    spans = [span for run in _DIGIT_GROUPS.finditer(text) for span in _card_spans(run)]
    if spans:
        found.add("card_number")
    return _splice(text, spans, MARKERS["card_number"])


def _card_spans(run: re.Match[str]) -> list[tuple[int, int]]:
    """The card numbers in a run of digit groups: the longest first, from the left."""
    groups = list(_GROUP.finditer(run.group()))
    spans, start = [], 0
    while start < len(groups):
        end = next(
            (
                end
                for end in range(min(len(groups), start + _CARD_DIGITS.stop - 1), start, -1)
                if _is_card([g.group() for g in groups[start:end]])
            ),
            None,
        )
        if end is None:
            start += 1
            continue
        spans.append((run.start() + groups[start].start(), run.start() + groups[end - 1].end()))
        start = end
    return spans


def _is_card(groups: list[str]) -> bool:
    digits = "".join(groups)
    return (
        len(digits) in _CARD_DIGITS
        and digits[0] != "0"
        and _card_layout(groups)
        and luhn_valid(digits)
    )


def _card_layout(groups: list[str]) -> bool:
    sizes = tuple(map(len, groups))
    fours = all(size == 4 for size in sizes[:-1]) and 1 <= sizes[-1] <= 4
    return len(sizes) == 1 or fours or sizes in _SPLIT_LAYOUTS


def _replace_near_card(text: str, found: set[str]) -> str:
    cards = [m.span() for m in re.finditer(re.escape(MARKERS["card_number"]), text)]
    spans = [
        m.span("v")
        for m in _EXPIRY_AFTER_WORD.finditer(text)
        if any(_distance(m.span(), card) <= _NEAR for card in cards)
    ]
    if spans:
        found.add("card_expiry")
    return _splice(text, spans, MARKERS["card_expiry"])


def _distance(span: tuple[int, int], other: tuple[int, int]) -> int:
    return max(other[0] - span[1], span[0] - other[1], 0)


def _replace(pattern: re.Pattern[str], text: str, kind: str, found: set[str]) -> str:
    spans = [m.span("v") for m in pattern.finditer(text)]
    if spans:
        found.add(kind)
    return _splice(text, spans, MARKERS[kind])


def _splice(text: str, spans: list[tuple[int, int]], marker: str) -> str:
    """`text` with each of the (ordered, disjoint) spans replaced by `marker`."""
    parts, cursor = [], 0
    for start, end in spans:
        parts += [text[cursor:start], marker]
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts)
