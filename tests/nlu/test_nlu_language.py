"""Language signal: words decide; dates, numbers and words both languages share do not."""

from __future__ import annotations

import pytest

from nlu.language import detect_language, language_of


@pytest.mark.parametrize(("text", "expected"), [
    ("hola, cuánto debo?", "es"),
    ("puedo pagar 50 el viernes", "es"),
    ("how much do i owe", "en"),
    ("cant pay till fri", "en"),
    ("03/14/1985", None),
    ("10001", None),
    ("2", None),
    ("no", None),  # both languages
    ("ok", None),
])
def test_only_words_give_a_message_a_language(text: str, expected: str | None) -> None:
    assert language_of(text) == expected


def test_extraction_still_gets_a_language_when_there_is_no_signal() -> None:
    assert detect_language("03/14/1985") == "en" and detect_language("hola") == "es"


@pytest.mark.parametrize(("text", "language"), [
    ("don't contact me anymore by any means, no calls no texts no emails", "en"),
    ("I’m done, don’t text me", "en"),  # curly apostrophes, as phones type them
    ("stop molestando a mi abuela", "es"),  # "a" is Spanish too
    ("voy a pagar el viernes", "es"),
    ("mándeme un email", "es"),
])
def test_apostrophes_and_shared_words_do_not_tip_the_language(text: str, language: str) -> None:
    assert language_of(text) == language
