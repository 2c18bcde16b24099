"""Guess whether a debtor message is English or Spanish from function words and spelling."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-záéíóúñü]+")
_ES = frozenset(str.split(
    "que de la el los las un una y no si sí por para con mi me te lo le es esta está estoy "
    "pago pagar puedo tengo debo hoy mañana manana gracias hola semana mes dinero deuda "
    "cuanto cuánto quien quién ya pero porque como cómo soy son del al yo usted ustedes "
    "nada bueno vale claro favor dia día meses cuotas ahora trabajo abogado "
    "llames llamen llamar mensajes molestes molesten necesito quiero puede hablar persona "
    "cuenta saldo cuando viernes lunes martes jueves sabado domingo "
    "hasta oye hacer ahorita quincena pues"
))
_EN = frozenset(str.split(
    "the an and i you my me to is it this that of for on in can cant will pay paid "
    "not no yes yeah today tomorrow week month please thanks thank hi hello what who "
    "how much when money debt have dont im be your do are was wont doesnt isnt didnt "
    "contact any anymore by call calls texts texting with about just thx pls plz"
))
_APOSTROPHES = re.compile(r"['’`]")
_ACCENTED = re.compile(r"[ñáéíóú]")
# Words English texts use too ("yo", "nada", "no", "me"), or Spanish ones too short to be sure
# of: each is a third of the evidence of a word only one language has (or of an accent).
_WEAK = frozenset(str.split("yo ya y no si me te le lo la el de es un al son mes favor nada"))
_WEAK_WEIGHT, _STRONG_WEIGHT = 1, 3
# A language needs one unambiguous word or accent, or three weak words: "yo whats up" is not
# Spanish, and such a guess must not override the language the debtor has written or prefers.
_ENOUGH = 3


def language_of(text: str) -> str | None:
    """'es' or 'en' when the words say so; None when they do not ("10001", "03/14/1985", "no",
    "yo whats up").

    A reply with too little signal must not switch a conversation's language, so it gets no
    language.
    """
    lowered = _APOSTROPHES.sub("", text.lower())  # "don't" is one English word, not "don" + "t"
    words = _WORD.findall(lowered)
    accents = sum(ch in "ñ¿¡áéíóú" for ch in lowered)
    if _spanglish(words):
        return "es"
    spanish = _score(words, _ES) + _STRONG_WEIGHT * accents
    english = _score(words, _EN)
    if spanish == english or max(spanish, english) < _ENOUGH:
        return None
    return "es" if spanish > english else "en"


def _spanglish(words: list[str]) -> bool:
    """English and Spanish mixed, with a sure Spanish word and as many Spanish words as English.

    "hola, i can pay el viernes": an English writer does not reach for "hola" or "el viernes",
    a Spanish one writes English words freely, and whoever writes Spanglish reads Spanish; in
    such a message "el" counts as a whole Spanish word, whatever it weighs alone.
    """
    spanish = [w for w in words if (w in _ES or _ACCENTED.search(w)) and w not in _EN]
    english = [w for w in words if w in _EN and w not in _ES]
    sure = any(w not in _WEAK for w in spanish)
    return bool(english) and sure and len(spanish) >= len(english)


def _score(words: list[str], vocabulary: frozenset[str]) -> int:
    return sum(_WEAK_WEIGHT if w in _WEAK else _STRONG_WEIGHT for w in words if w in vocabulary)


def detect_language(text: str) -> str:
    """'es' or 'en' — no signal goes to English, the more common language of short replies."""
    return language_of(text) or "en"
