"""The shipped training data: it must validate, and cross-validated macro F1 must hold a floor."""

from pathlib import Path

import pytest

from nlu.dataset import TrainingData
from nlu.evaluation import cross_validate, train_test
from nlu.reader import read_file
from nlu.training import load_and_validate

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "nlu" / "training_data"
HELD_OUT = ROOT / "bench" / "data" / "debtor_holdout.yml"
# Measured 2026-11-28 on the shipped data (5-fold; TF-IDF word+char and pooled embeddings,
# linear SVM): 0.895 (0.80 on 2026-11-25, before the data grew to 3,976 examples).
MACRO_F1_FLOOR = 0.86
# The independent held-out set (written without reading the training data): 0.977 measured.
HELD_OUT_MACRO_F1_FLOOR = 0.95
# A second one, 600 messages typed the hard way (2026-11-29): 0.983 before any example was
# written for what it showed; it then guided 133 examples of those families, so it is now a
# regression guard, not an independent score.
FIELD = ROOT / "bench" / "data" / "debtor_holdout_field.yml"
FIELD_MACRO_F1_FLOOR = 0.95


@pytest.fixture(scope="module")
def shipped():
    return load_and_validate(DATA)


def test_shipped_training_data_is_valid(shipped):
    _, problems = shipped
    assert not problems, "\n".join(map(str, problems))


def test_cross_validated_macro_f1_holds_the_floor(shipped):
    data, _ = shipped
    report = cross_validate(data, folds=5)
    assert report.macro_f1 >= MACRO_F1_FLOOR, report.intents


@pytest.mark.parametrize(("path", "floor"), [(HELD_OUT, HELD_OUT_MACRO_F1_FLOOR),
                                             (FIELD, FIELD_MACRO_F1_FLOOR)])
def test_the_independent_held_out_sets_hold_their_floor(shipped, path, floor):
    data, _ = shipped
    held_out = TrainingData()
    assert read_file(path, held_out) == []
    report = train_test(data, held_out)
    assert report.macro_f1 >= floor, report.intents
