"""The language detector abstains on too little evidence and still hears clear Spanish."""

from __future__ import annotations

import pytest

from nlu.language import detect_language, language_of


@pytest.mark.parametrize("text", [
    "yo whats up",  # "yo" is English slang too
    "bro wat",
    "k",
    "no se",  # "no" is both; without its accent "se" is no word of either list
    "yo",
    "ya",
    "hey yo",
    "yo no",
    "nada",
    "lol ok",
])
def test_too_little_evidence_gives_no_language(text: str) -> None:
    assert language_of(text) is None


@pytest.mark.parametrize(("text", "language"), [
    ("talk to a person", "en"),
    ("yo what is this about", "en"),
    ("no thanks", "en"),
    ("cant pay till fri", "en"),
    ("hi", "en"),
    ("hola", "es"),
    ("no sé", "es"),
    ("sí", "es"),
    ("no puedo pagar", "es"),
    ("no me llames más", "es"),
    ("yo no tengo dinero", "es"),
    ("hola, no entiendo, puedo pagar el viernes?", "es"),
    ("ok gracias", "es"),
])
def test_clear_words_still_give_the_language(text: str, language: str) -> None:
    assert language_of(text) == language


def test_extraction_still_defaults_to_english_without_evidence() -> None:
    assert detect_language("yo whats up") == "en"
    assert detect_language("no me llames") == "es"
