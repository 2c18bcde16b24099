"""Days of the month written in words: English ordinals ("the fifth") and Spanish cardinals
("el quince")."""

from __future__ import annotations

import re

from nlu.extractors.numbers import strip_accents

_EN_UNITS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth"]
_EN_TEENS = ["tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
             "sixteenth", "seventeenth", "eighteenth", "nineteenth"]
_ES_WORDS = ["uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez",
             "once", "doce", "trece", "catorce", "quince", "dieciseis", "diecisiete",
             "dieciocho", "diecinueve", "veinte", "veintiuno", "veintidos", "veintitres",
             "veinticuatro", "veinticinco", "veintiseis", "veintisiete", "veintiocho",
             "veintinueve", "treinta", "treinta y uno"]


def _english() -> dict[str, int]:
    days = {word: n for n, word in enumerate(_EN_UNITS + _EN_TEENS, start=1)}
    days |= {"twentieth": 20, "thirtieth": 30, "thirty first": 31}
    days |= {f"twenty {word}": 20 + n for n, word in enumerate(_EN_UNITS, start=1)}
    return days


ENGLISH_DAYS = _english()
SPANISH_DAYS = {word: n for n, word in enumerate(_ES_WORDS, start=1)}
_ACCENTED = {"a": "[aá]", "e": "[eé]", "i": "[ií]", "o": "[oó]", "u": "[uú]", " ": r"[\s-]*"}


def _alternation(words: list[str]) -> str:
    return "|".join("".join(_ACCENTED.get(ch, ch) for ch in word)
                    for word in sorted(words, key=len, reverse=True))


ENGLISH_DAY = _alternation(list(ENGLISH_DAYS))
SPANISH_DAY = _alternation(list(SPANISH_DAYS))
# A bare "el dos" may pick the second numbered choice; only "el día dos" or a day past the
# tenth ("el quince") names a day with no month after it.
SPANISH_DAY_ALONE = _alternation([w for w, n in SPANISH_DAYS.items() if n > 10])


def day_number(word: str) -> int:
    """The day a matched day word names."""
    key = re.sub(r"[\s-]+", " ", strip_accents(word.lower())).strip()
    key = re.sub(r"^(twenty|thirty)(?=[a-z])(?!ieth)", r"\1 ", key)
    return ENGLISH_DAYS.get(key) or SPANISH_DAYS[key]
