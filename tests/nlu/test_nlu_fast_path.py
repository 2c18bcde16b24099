"""The one-message fast path scores exactly like the sklearn batch path, also after a reload."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from nlu_fixtures import SMALL_DATA

from nlu.classifier import IntentClassifier
from nlu.model import load_model, save_model
from nlu.training import load_and_validate, train_model

DATA = Path(__file__).resolve().parents[2] / "nlu" / "training_data"
ODD = [
    "", " ", "\n\t", "?!", "...", "🙂", "💸💸💸 pago 🙂", "ñandú ¿cuándo? ÁÉÍÓÚ",
    "ＦＵＬＬ　ｗｉｄｔｈ",
    "soooooooo 12345 $1,234.56 on 03/04", "ﬁ ligature", "null\x00byte", "zzzzqqqxxv",
    "I can pay $50 on the 15th " * 400, "a", "😀" * 3000, "مرحبا", "日本語のテキスト",
]


@pytest.fixture(scope="module")
def shipped():
    data, _ = load_and_validate(DATA)
    return data, train_model(data)


def _assert_same(classifier: IntentClassifier, texts: list[str]) -> None:
    assert classifier._fast is not None
    batch = classifier.predict_proba(texts)
    for row, text in zip(batch, texts, strict=True):
        single = classifier.predict_proba([text])[0]
        fast = classifier.predict_one(text)
        np.testing.assert_allclose(fast, single, rtol=0, atol=1e-12)
        np.testing.assert_allclose(fast, row, rtol=0, atol=1e-9)
        assert fast.argmax() == single.argmax()


def test_fast_path_equals_sklearn_on_the_shipped_data(shipped):
    data, model = shipped
    texts = [e.text for e in data.examples]
    _assert_same(model.classifier, texts + ODD + [t.upper() for t in texts[::7]])


def test_margins_are_bitwise_equal(shipped):
    data, model = shipped
    classifier = model.classifier
    assert classifier._features is not None and classifier._svm is not None
    assert "embed" in dict(classifier._features.transformer_list)  # the dense block is scored too
    for text in [e.text for e in data.examples[::5]] + ODD:
        expected = classifier._scores(classifier._features, classifier._svm, [text])
        assert np.array_equal(classifier._fast.scores(text), expected), text


def test_the_fast_path_is_derived_on_load_and_not_saved(shipped, tmp_path):
    data, model = shipped
    save_model(model, tmp_path)
    assert b"FastScorer" not in (tmp_path / model.version / "model.pkl").read_bytes()
    loaded = load_model(tmp_path)
    _assert_same(loaded.classifier, [e.text for e in data.examples[::3]] + ODD)


def test_small_and_binary_models():
    texts = [t for examples in SMALL_DATA.values() for t in examples]
    labels = [intent for intent, examples in SMALL_DATA.items() for _ in examples]
    small = IntentClassifier().fit(texts, labels)
    _assert_same(small, texts + ODD)
    two = [(t, label) for t, label in zip(texts, labels, strict=True)
           if label in ("greet", "affirm")]
    binary = IntentClassifier().fit([t for t, _ in two], [label for _, label in two])
    _assert_same(binary, texts + ODD)
    _assert_same(pickle.loads(pickle.dumps(binary)), texts + ODD)


def test_unfitted_classifier_still_refuses():
    with pytest.raises(RuntimeError):
        IntentClassifier().predict_one("hi")
