"""Identity-check secrets (dates of birth, ZIP codes, account references) never reach the
training data, and accepted examples never contradict each other."""

from datetime import date

import pytest

from nlu.accepted import (
    AcceptedExample,
    ExampleRefused,
    Span,
    label_conflicts,
    masked_again,
    merge,
    to_yaml,
)
from nlu.dataset import TrainingData
from nlu.masking import mask_pii

TODAY = date(2026, 11, 28)
REVIEWED = "ugh i already gave my birthday 01/16/1964 and zip 89175 last time, whatever"


def test_the_reviewers_message_keeps_neither_the_birthday_nor_the_zip():
    masked = mask_pii(REVIEWED, today=TODAY)
    assert masked.text == ("ugh i already gave my birthday <date> and zip <zip> last time, "
                           "whatever")
    assert masked.kinds == ["date", "zip"]


@pytest.mark.parametrize(("text", "masked"), [
    ("born 03/14/1985", "born <date>"),
    ("dob 1964-01-16 ok", "dob <date> ok"),
    ("es 16-01-64", "es <date>"),
    ("16.01.1964", "<date>"),
    ("January 16, 1964 is my birthday", "<date> is my birthday"),
    ("jan 16th 1964", "<date>"),
    ("16 January 1964", "<date>"),
    ("naci el 16 de enero de 1964", "naci el <date>"),
    ("enero 16 de 1964", "<date>"),
    ("16/ene/1964", "<date>"),
    ("zip 10001", "zip <zip>"),
    ("10001", "<zip>"),
    ("my zip code is 89175-1234", "my zip code is <zip>"),
    ("código postal 06700", "código postal <zip>"),
    ("cp 06700 y ya", "cp <zip> y ya"),
    ("C.P. 06700", "C.P. <zip>"),
    ("it was 89175, right?", "it was <zip>, right?"),
    ("account ending in 4821", "account ending in <number>"),
    ("los ultimos 4 son 4821", "los ultimos 4 son <number>"),
    ("acct # 1234 5678", "acct # <number>"),
    ("ref 12-3456-789", "ref <number>"),
    ("reference 1234 5678 90", "reference <number>"),
])
def test_identity_secrets_become_placeholders(text, masked):
    assert mask_pii(text, today=TODAY).text == masked


@pytest.mark.parametrize("text", [
    "i can pay friday", "pay 50 on 12/5", "the 15th works", "te pago el 15 de diciembre",
    "due 2026-12-15", "paid on 11/02/2026", "pay 12/5/26", "i get paid jan 15, 2027",
    "te pago 15000 el viernes", "I can pay 10000 dollars", "$10000 by friday",
    "3 payments of 200", "50 100 each",
])
def test_promises_amounts_and_dates_without_a_year_stay(text):
    assert mask_pii(text, today=TODAY).text == text


def test_masking_the_masked_text_again_changes_nothing():
    once = mask_pii(REVIEWED, today=TODAY).text
    assert mask_pii(once, today=TODAY).text == once


def test_an_example_saved_before_the_fix_is_masked_again_without_its_raw_spans():
    old = AcceptedExample(REVIEWED, "deny", (Span("date", 31, 41), Span("amount", 50, 55)))
    again = masked_again(old, today=TODAY)
    assert again.text == mask_pii(REVIEWED, today=TODAY).text
    assert again.spans == ()
    kept = masked_again(AcceptedExample("born 03/14/1985 pay 50", "deny",
                                        (Span("amount", 20, 22),)), today=TODAY)
    assert kept.text == "born <date> pay 50"
    assert [kept.text[s.start:s.end] for s in kept.spans] == ["50"]


CONFLICT = [AcceptedExample("i'll see what i can do", "deny"),
            AcceptedExample("I'll see what i can do", "request_extension")]


def test_one_text_under_two_intents_is_named_and_refused_by_export_and_merge():
    (sentence,) = label_conflicts(CONFLICT)
    assert "deny" in sentence and "request_extension" in sentence
    with pytest.raises(ExampleRefused, match="request_extension"):
        to_yaml(CONFLICT)
    with pytest.raises(ExampleRefused, match="deny"):
        merge(TrainingData(), CONFLICT)


def test_the_same_text_under_one_intent_is_written_once():
    text = to_yaml([AcceptedExample("see you", "greet"),
                    AcceptedExample("See you", "greet")])
    assert text.count("- ") == 2  # the intent line and one example
