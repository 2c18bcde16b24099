"""Numbers written in digits or words, in English and Spanish."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "cero": 0, "uno": 1, "una": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12,
    "trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16, "diecisiete": 17,
    "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiuno": 21, "veintiun": 21,
    "veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25,
    "veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29, "treinta": 30,
    "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80,
    "noventa": 90, "cien": 100, "ciento": 100, "doscientos": 200, "doscientas": 200,
    "trescientos": 300, "cuatrocientos": 400, "quinientos": 500, "seiscientos": 600,
    "setecientos": 700, "ochocientos": 800, "novecientos": 900,
}
_SCALES = {"hundred": 100, "thousand": 1000, "mil": 1000, "k": 1000, "grand": 1000}
_WORDS = sorted([*_UNITS, *_SCALES, "dieciséis", "veintidós", "veintitrés", "veintiséis"],
                key=len, reverse=True)
_WORD_ALT = "|".join(w for w in _WORDS if w not in ("k", "grand"))
_JOIN = r"(?:\s+and\s+|\s+y\s+|\s*-\s*|\s+)"
_ARTICLE = r"(?:(?:a|an)\s+(?=hundred|thousand|grand))?"
NUMBER_WORDS = rf"{_ARTICLE}(?:{_WORD_ALT})(?:{_JOIN}(?:{_WORD_ALT}))*"
# "1 500": Spanish (and French) group thousands with a space; read in Spanish only.
# Not after "el" / "día": "el 15 200 pesos" is the 15th and 200, never 15,200.
DIGITS = (r"\d{1,3}(?:[,.]\d{3})+(?:[.,]\d{1,2})?"
          r"|(?<!el )(?<!d[ií]a )\d{1,3}(?: \d{3})+(?![.,]?\d)"
          r"|\d+(?:[.,]\d{1,2})?")
_COMMA_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_DOT_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3}){2,}$")
_ONE_DOT_GROUP = re.compile(r"^\d{1,3}\.\d{3}$")


def strip_accents(text: str) -> str:
    """'dólares' → 'dolares', for matching word lists typed with or without accents."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words_to_int(phrase: str) -> int | None:
    """'one hundred and fifty' → 150, 'dos mil quinientos' → 2500; None if not a number."""
    tokens = re.split(r"[\s-]+", strip_accents(phrase.lower()))
    total, current, seen = 0, 0, False
    for token in tokens:
        if token in ("and", "y", "a", "an", ""):
            continue
        if token in _UNITS:
            current += _UNITS[token]
        elif token == "hundred":
            current = max(current, 1) * 100
        elif token in _SCALES:
            total += max(current, 1) * _SCALES[token]
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


def digits_to_decimal(raw: str, language: str | None = None) -> Decimal | None:
    """'1,200.50' → 1200.50, '1.200,50' → 1200.50, '12,5' → 12.5, '1.234.567' → 1234567.

    A single dot followed by exactly three digits depends on the language: Spanish writes
    1,500 as '1.500', so there it is a thousands separator; in English (or when the language
    is unknown) '12.345' is a decimal point with three decimals — a typo for 12.34/12.35 or
    for 12,345, nobody knows. A collections bot must never read a larger amount than the
    debtor wrote (a link or a promise for the whole balance), and rounding 50.555 to 50.56
    would also exceed it, so the ambiguous form yields no number and the dialog asks again.
    Likewise any decimal part longer than two digits ('1,234.567') yields no number.
    """
    text = raw.strip()
    if " " in text:
        # "1 500" is 1500 in Spanish; in English it is no number anyone writes ("1" and
        # "500"?), so no amount rather than a guess.
        return Decimal(text.replace(" ", "")) if language == "es" else None
    if "," in text and "." in text:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        text = text.replace(thousands, "").replace(decimal_sep, ".")
    elif _COMMA_THOUSANDS.match(text) or _DOT_THOUSANDS.match(text):
        text = text.replace(",", "").replace(".", "")
    elif _ONE_DOT_GROUP.match(text):
        if language != "es":
            return None
        text = text.replace(".", "")
    else:
        text = text.replace(",", ".")
    if "." in text and len(text.rsplit(".", 1)[1]) > 2:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def to_number(raw: str, language: str | None = None) -> Decimal | None:
    """Digits or words to a Decimal; `language` ('en'/'es') decides an ambiguous '1.500'."""
    if re.search(r"\d", raw):
        return digits_to_decimal(raw, language)
    value = words_to_int(raw)
    return None if value is None else Decimal(value)
