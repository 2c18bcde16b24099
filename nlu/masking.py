"""Mask personal data in debtor text before it becomes a training example."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

PLACEHOLDERS = {"email": "<email>", "phone": "<phone>", "number": "<number>", "name": "<name>",
                "date": "<date>", "zip": "<zip>", "address": "<address>"}
# A dated day this close to the message is a promise or a payment the NLU must learn; a date
# of birth never is.
RECENT_YEARS = 2
FUTURE_YEARS = 5
# Digit groups ("1234 5678", "12-3456-78") are a reference from this many digits in all, or
# with one run this long; shorter ones are amounts and counts.
_MIN_GROUPED_DIGITS = 8
_LONG_RUN = 6

_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
           r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
           r"|enero|ene|febrero|marzo|abr(?:il)?|mayo|junio|julio|ago(?:sto)?"
           r"|se(?:p)?tiembre|octubre|noviembre|dic(?:iembre)?)\.?")
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th|ro|°|º)?"
# Words before a card's expiry date, in English and Spanish ("exp 12/27", "vence 12/27").
_EXPIRY_WORDS = (r"(?:\bexp(?:\.|iry|iration|ires|ired|ire|iring)?(?:\s+date)?"
                 r"|\bvalid\s+(?:thru|through|until)|\bvence|\bvencimiento|\bcaduca)")
_MONEY_BEFORE = re.compile(
    r"(?:[$€£]|\b(?:usd|mxn|us\$|mx\$)|\b(?:pay|paying|paid|send|deposit|pago|pagar|pagaré"
    r"|pagare|pagué|pague|abono|abonar|mando|deposito|depósito)(?:\s+(?:you|te|le))?)\s*$",
    re.IGNORECASE)
_MONEY_AFTER = re.compile(
    r"\s*(?:dollars?|bucks|usd|pesos?|mxn|dls|d[oó]lares|mil)\b|[.,]\d", re.IGNORECASE)

_STREET_TYPES = (r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct"
                 r"|way|place|pl|terrace|ter|circle|cir|highway|hwy|parkway|pkwy|square|sq)")
_UNIT = r"(?:\s*,?\s*(?:apt|apartment|unit|suite|ste|#)\s*\.?\s*#?\s*[\w-]+)?"
# Words that make "<number> ... st" a sentence ("pay 50 on the 1 st"), not a street name.
_NOT_STREET_WORDS = frozenset({
    "the", "a", "an", "at", "on", "by", "in", "of", "this", "next", "per", "to", "for", "and",
    "or", "dollars", "bucks", "usd", "i", "you", "it", "is", "will", "can", "pay", "paid"})

Keep = Callable[[str, "re.Match[str]", date], bool]


def _year(match: re.Match[str], today: date) -> int:
    """The match's year; two digits read as this century only when near `today`."""
    raw = (match.groupdict().get("iso") or match.group("year")).lstrip("'’")
    if len(raw) > 2:
        return int(raw)
    recent = 2000 + int(raw)
    near = today.year - RECENT_YEARS <= recent <= today.year + FUTURE_YEARS
    return recent if near else 1900 + int(raw)


def _near_today(text: str, match: re.Match[str], today: date) -> bool:
    return _year(match, today) >= today.year - RECENT_YEARS


def _few_digits(text: str, match: re.Match[str], today: date) -> bool:
    groups = re.findall(r"\d+", match.group())
    return sum(map(len, groups)) < _MIN_GROUPED_DIGITS and max(map(len, groups)) < _LONG_RUN


def _not_a_street(text: str, match: re.Match[str], today: date) -> bool:
    return any(word.casefold() in _NOT_STREET_WORDS for word in match.group("words").split())


def _money(text: str, match: re.Match[str], today: date) -> bool:
    return bool(_MONEY_BEFORE.search(text[:match.start()])
                or _MONEY_AFTER.match(text, match.end()))


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Order matters: an email holds digits, a date or a phone is a digit run; earlier kinds win
# overlaps, and a match a `keep` rule lets stand (a promise's date, an amount) is not masked
# by a later kind either. A pattern's `v` group, when it has one, is the part masked.
_PATTERNS: tuple[tuple[str, re.Pattern[str], Keep | None], ...] = (
    ("email", _compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), None),
    # A street address (the trainer reviewer found "12 Elm Street" shown): the house number,
    # one to four words and a street type, with a unit; in Spanish the street word first.
    ("address", _compile(rf"(?<![\w$.,/-])\d{{1,6}}[a-z]?\s+(?P<words>(?:[\w'.-]+\s+){{1,4}}?)"
                         rf"{_STREET_TYPES}\b\.?{_UNIT}"), _not_a_street),
    ("address", _compile(r"(?<!\w)(?:calle|c/|avenida|avda\.?|av\.|calzada|privada"
                         r"|callej[oó]n|carretera|paseo)\s+(?:[\w'.áéíóúñ-]+\s+){1,4}?"
                         r"(?:#\s*|n[uú]m(?:ero|\.)?\s*|no\.?\s*)?\d{1,6}[a-z]?(?!\w|[.,]\d)"
                         r"(?:\s*,?\s*(?:int(?:erior)?|depto|dpto|apto|piso)\.?\s*[\w-]+)?"), None),
    # A card's expiry and security code only after their words: "12/27" alone is a promise.
    ("date", _compile(rf"{_EXPIRY_WORDS}\s*[:#-]?\s*(?:(?:on|in|is|en|es)\s*:?\s*)?"
                      r"(?P<v>(?:0?[1-9]|1[0-2])\s?[/-]\s?(?:20)?\d{2}"
                      rf"|{_MONTHS}\s*[/-]?\s*20\d{{2}})(?![\w/]|[.,-]\d)"), None),
    ("number", _compile(r"(?:\bcv[vc]2?|\bsecurity\s+code|\bc[oó]digo\s+de\s+seguridad)"
                        r"(?:\s+(?:number|code|n[uú]mero|no\.?))?\s*(?:(?:is|es)\s+)?[:#=]?\s*"
                        r"(?P<v>\d{3,4})(?!\w|[.,]\d)"), None),
    ("date", _compile(r"(?<![\w/.-])(?:\d{1,2}[/.-]\d{1,2}[/.-](?P<year>\d{4}|\d{2})"
                      r"|(?P<iso>\d{4})[/.-]\d{1,2}[/.-]\d{1,2})(?![\w/]|[.-]\d)"), _near_today),
    ("date", _compile(rf"(?<!\w)\d{{1,2}}[/.\- ]{_MONTHS}[/.\- ](?P<year>\d{{4}}|\d{{2}})(?!\w)"),
     _near_today),
    ("date", _compile(rf"(?<!\w){_MONTHS}\s+{_DAY},?\s+(?:of\s+|de\s+|del\s+)?"
                      rf"(?P<year>\d{{4}}|['’]\d{{2}})(?!\w)"), _near_today),
    ("date", _compile(rf"(?<!\w){_DAY}\s+(?:of\s+|de\s+)?{_MONTHS},?\s+(?:of\s+|de\s+|del\s+)?"
                      rf"(?P<year>\d{{4}}|['’]\d{{2}})(?!\w)"), _near_today),
    ("number", _compile(r"\b\d{3}-\d{2}-\d{4}\b"), None),  # US SSN shape
    ("zip", _compile(r"(?:\bzip(?:\s*code)?|\bpost(?:al)?\s*code|\bc[oó]digo\s+postal|\bc\.p\."
                     r"|\bcp)\s*(?:is\s+|es\s+|:|#|no\.?|number)?\s*"
                     r"(?P<v>\d{5}(?:-\d{4})?)(?![\w-])"), None),
    ("number", _compile(r"(?:\b(?:ending|ends)(?:\s+(?:in|with))?|\blast\s+(?:4|four)"
                        r"(?:\s+digits)?(?:\s+(?:are|is))?|\btermina(?:da)?\s+en"
                        r"|\bterminaci[oó]n|\b[uú]ltimos\s+(?:4|cuatro)(?:\s+d[ií]gitos)?"
                        r"(?:\s+son)?)\s*:?\s*(?P<v>\d{4})(?!\w)"), None),
    ("number", _compile(r"(?:\b(?:account|acct|acc|cuenta|ref|reference|referencia|folio)"
                        r"(?:\s+(?:number|no\.?|num|n[uú]mero))?\s*(?:is\s+|es\s+|:)?|#)\s*"
                        r"(?P<v>\d(?:[ -]?\d){3,})(?!\w)"), None),
    ("phone", _compile(
        r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\w)"), None),
    ("phone", _compile(r"(?<![\w+])\+\d(?:[\s.-]?\d){7,14}(?!\w)"), None),
    ("phone", _compile(r"(?<![\w.-])\d{3}[\s.-]\d{4}(?![\w.-])"), None),
    ("zip", _compile(r"(?<![\w$.,/-])(?P<v>\d{5}(?:-\d{4})?)(?![\w/-]|[.,]\d)"), _money),
    ("number", _compile(r"(?<!\w)\d{3,4}(?:[ -]\d{3,4}){2,}(?!\w)"), None),  # card-like groups
    ("number", _compile(r"(?<![\w/.-])\d{2,}(?:[ -]\d{2,})+(?!\w)"), _few_digits),
    ("number", _compile(r"\d{6,}"), None),
)
_MIN_NAME_PART = 2
# Joining words of compound surnames ("María de la Cruz"): part of the whole name, never masked
# on their own.
_NAME_PARTICLES = frozenset({"de", "del", "la", "las", "los", "da", "das", "do", "dos", "di",
                             "van", "von", "der", "den", "du", "le"})
_NAME_SEPARATORS = re.compile(r"[\s\-‐‑–]+")


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


def mask_pii(text: str, names: Iterable[str] = (), *, today: date | None = None) -> Masked:
    """Replace emails, phone numbers, dates of birth, ZIP codes, account references, card
    expiry dates and security codes, long digit runs and the given names with placeholders.

    A date with a year is a date of birth unless it falls near `today` (default: today in UTC):
    from `RECENT_YEARS` back on. Dates without a year ("friday", "12/5") are never masked.
    """
    today = today or datetime.now(UTC).date()
    found: list[tuple[int, int, str]] = []
    kept: list[tuple[int, int]] = []
    names_found = [(kind, pattern, None) for kind, pattern in _name_patterns(names)]
    for kind, pattern, keep in (*_PATTERNS, *names_found):
        for match in pattern.finditer(text):
            start, end = match.span("v") if "v" in pattern.groupindex else match.span()
            if any(s < end and start < e for s, e in [*kept, *((s, e) for s, e, _ in found)]):
                continue
            if keep is not None and keep(text, match, today):
                kept.append((start, end))
            else:
                found.append((start, end, kind))
    found.sort()
    parts, cursor = [], 0
    for start, end, kind in found:
        parts += [text[cursor:start], PLACEHOLDERS[kind]]
        cursor = end
    parts.append(text[cursor:])
    return Masked("".join(parts), text, tuple(found))


def placeholders(text: str) -> list[str]:
    """The kinds of the placeholders in (masked) text, in order: what was masked, whether this
    call or an earlier one masked it."""
    return [_KIND_OF[m.group()] for m in _PLACEHOLDER.finditer(text)]


_KIND_OF = {placeholder: kind for kind, placeholder in PLACEHOLDERS.items()}
_PLACEHOLDER = re.compile("|".join(map(re.escape, PLACEHOLDERS.values())))


def mask_contacts(text: str) -> str:
    """Emails and phone numbers replaced by `mask_pii`'s placeholders, with its patterns: what
    the NLU's features read, so a trainer's masked example and the real message look alike."""
    for kind, pattern, _ in _CONTACTS:
        text = pattern.sub(PLACEHOLDERS[kind], text)
    return text


def alike_when_parsed(text: str) -> str:
    """What a trainer's masked example and the live message both become for the features:
    contacts as placeholders, and a masked name left out (no name is known when parsing)."""
    return " ".join(mask_contacts(text).replace(PLACEHOLDERS["name"], " ").split())


_CONTACTS = tuple(entry for entry in _PATTERNS if entry[0] in ("email", "phone"))


def _name_patterns(names: Iterable[str]) -> list[tuple[str, re.Pattern[str]]]:
    runs: set[tuple[str, ...]] = set()
    for name in names:
        words = tuple(w for w in _NAME_SEPARATORS.split(name) if w)
        # The whole name and every run of its words that starts and ends on a name part
        # ("María-Fernanda Ibáñez": "María Fernanda", "Fernanda Ibáñez", "Ibáñez", ...).
        runs.update(words[i:j] for i in range(len(words)) for j in range(i + 1, len(words) + 1)
                    if _name_part(words[i]) and _name_part(words[j - 1]))
    # Longest first, so "Ana Ruiz" is one placeholder rather than two.
    ordered = sorted(runs, key=lambda run: (len(run), len(" ".join(run))), reverse=True)
    return [("name", re.compile(rf"(?<!\w){_name_regex(run)}(?!\w)", re.IGNORECASE))
            for run in ordered]


def _name_part(word: str) -> bool:
    return len(word) >= _MIN_NAME_PART and _fold(word).casefold() not in _NAME_PARTICLES


def _name_regex(words: tuple[str, ...]) -> str:
    """The words typed with or without their accents, apart by spaces or hyphens."""
    return r"[\s\-‐‑–]+".join("".join(map(_letter, _fold(w))) for w in words)


def _letter(char: str) -> str:
    variants = _ACCENTED.get(char.casefold())
    if variants is None:
        return re.escape(char) if char not in "'’" else "['’]"
    return f"[{char.casefold()}{variants}][\u0300-\u036f]*"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _accented_letters() -> dict[str, str]:
    """Each plain Latin letter and its accented forms: 'n' → 'ñńņňŉ…'."""
    found: dict[str, str] = {}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = _fold(char).casefold()
        if len(base) == 1 and base.isascii() and base.isalpha() and base != char.casefold():
            found[base] = found.get(base, "") + char
    return found


_ACCENTED = _accented_letters()
