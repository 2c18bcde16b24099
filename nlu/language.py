"""Guess whether a debtor message is English or Spanish from function words and spelling."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-záéíóúñü]+")
_ES = frozenset(str.split(
    "que de la el los las un una y no si sí por para con mi me te lo le es esta está estoy "
    "pago pagar puedo tengo debo hoy mañana manana gracias hola semana mes dinero deuda "
    "cuanto cuánto quien quién ya pero porque como cómo soy son del al yo usted ustedes "
    "nada bueno vale claro favor dia día meses cuotas ahora trabajo abogado"
))
_EN = frozenset(str.split(
    "the an and i you my me to is it this that of for on in can cant will pay paid "
    "not no yes yeah today tomorrow week month please thanks thank hi hello what who "
    "how much when money debt have dont im be your do are was wont doesnt isnt didnt "
    "contact any anymore by call calls texts texting with about just"
))
_APOSTROPHES = re.compile(r"['’`]")


def language_of(text: str) -> str | None:
    """'es' or 'en' when the words say so; None when they do not ("10001", "03/14/1985", "no").

    A reply with no signal must not switch a conversation's language, so it gets no language.
    """
    lowered = _APOSTROPHES.sub("", text.lower())  # "don't" is one English word, not "don" + "t"
    words = _WORD.findall(lowered)
    spanish = sum(w in _ES for w in words) + 2 * sum(ch in "ñ¿¡áéíóú" for ch in lowered)
    english = sum(w in _EN for w in words)
    if spanish == english:
        return None
    return "es" if spanish > english else "en"


def detect_language(text: str) -> str:
    """'es' or 'en' — no signal goes to English, the more common language of short replies."""
    return language_of(text) or "en"
