"""Accepted examples: checks, Rasa YAML export read back by the strict reader, merging."""

import pytest
from nlu_fixtures import write_small_data

from nlu.accepted import (
    ACCEPTED_FILE,
    AcceptedExample,
    ExampleRefused,
    Span,
    check_example,
    clean_text,
    is_accepted,
    merge,
    to_yaml,
)
from nlu.annotations import Annotation
from nlu.dataset import TrainingData
from nlu.reader import read_file, read_training_data

EXAMPLES = [
    AcceptedExample("i can pay 50 on friday", "promise_to_pay",
                    (Span("amount", 10, 12, "50.00"), Span("date", 16, 22))),
    AcceptedExample("who is this? call <phone> not <name>", "ask_who"),
    AcceptedExample('he said "no" # twice: really', "deny"),
    AcceptedExample("3 payments (monthly) please", "request_payment_plan",
                    (Span("installments", 0, 1), Span("frequency", 12, 19))),
]


def test_export_reads_back_through_the_strict_reader(tmp_path):
    path = tmp_path / ACCEPTED_FILE
    path.write_text(to_yaml(EXAMPLES), encoding="utf-8")
    data = TrainingData()
    assert read_file(path, data) == []
    got = {e.text: (e.intent, e.annotations) for e in data.examples}
    assert got == {
        "i can pay 50 on friday": ("promise_to_pay", (
            Annotation("amount", 10, 12, "50", "50.00"), Annotation("date", 16, 22, "friday"))),
        "who is this? call <phone> not <name>": ("ask_who", ()),
        'he said "no" # twice: really': ("deny", ()),
        "3 payments (monthly) please": ("request_payment_plan", (
            Annotation("installments", 0, 1, "3"), Annotation("frequency", 12, 19, "monthly"))),
    }
    assert all(is_accepted(e) for e in data.examples)


def test_export_is_sorted_so_a_re_export_diffs_line_by_line():
    assert to_yaml(EXAMPLES) == to_yaml(list(reversed(EXAMPLES)))
    text = to_yaml(EXAMPLES)
    assert text.index("- intent: ask_who") < text.index("- intent: deny") < text.index(
        "- intent: promise_to_pay")


def test_an_empty_export_is_valid_yaml(tmp_path):
    path = tmp_path / ACCEPTED_FILE
    path.write_text(to_yaml([]), encoding="utf-8")
    assert read_file(path, TrainingData()) == []


@pytest.mark.parametrize("example", [
    AcceptedExample("hello", "not_an_intent"),
    AcceptedExample("   ", "greet"),
    AcceptedExample("hi [there]", "greet"),
    AcceptedExample("pay 50", "pay_partial", (Span("money", 4, 6),)),
    AcceptedExample("pay 50", "pay_partial", (Span("amount", 3, 6),)),
    AcceptedExample("pay 50 now", "pay_partial", (Span("amount", 4, 6), Span("date", 5, 10))),
])
def test_bad_examples_are_refused(example):
    with pytest.raises(ExampleRefused):
        check_example(example)


def test_clean_text_makes_one_line_without_brackets():
    assert clean_text("  hi [there]\n call\tme ") == "hi (there) call me"


def test_merge_lets_the_trainers_label_replace_the_same_text(tmp_path):
    data, _ = read_training_data(write_small_data(tmp_path / "data"))
    merged = merge(data, [AcceptedExample("Hello", "affirm"),
                          AcceptedExample("brand new text", "greet")])
    labels = {e.text.lower(): e.intent for e in merged.examples}
    assert labels["hello"] == "affirm"
    assert labels["brand new text"] == "greet"
    assert len(merged.examples) == len(data.examples) + 1
    assert merged.fingerprint() != data.fingerprint()
