"""Classifier, versioned model artifacts, the embedded interpreter and build_interpreter."""

import json
from datetime import UTC, datetime

import numpy as np
import pytest
from nlu_fixtures import SMALL_DATA, write_small_data

from nlu.classifier import IntentClassifier
from nlu.interpreter import EmbeddedInterpreter
from nlu.model import current_version, load_model, save_model
from nlu.reader import read_training_data
from nlu.runtime import NluConfig, build_interpreter
from nlu.training import train_model

REF = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture
def data_dir(tmp_path):
    return write_small_data(tmp_path / "data")


def test_classifier_predicts_calibrated_distribution():
    texts = [t for examples in SMALL_DATA.values() for t in examples]
    labels = [i for i, examples in SMALL_DATA.items() for _ in examples]
    classifier = IntentClassifier().fit(texts, labels)
    probs = classifier.predict_proba(["hello!", "stop texting me", "i'll pay friday"])
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert [classifier.labels[i] for i in probs.argmax(axis=1)] == [
        "greet", "opt_out", "promise_to_pay"]
    assert 0.0 < classifier.temperature < 10


def test_save_load_and_current_pointer(data_dir, tmp_path):
    data, _ = read_training_data(data_dir)
    model = train_model(data)
    folder = save_model(model, tmp_path / "models")
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["data_hash"] == data.fingerprint()
    assert meta["version"].endswith(data.fingerprint()[:8])
    assert {"scikit-learn", "numpy", "python"} <= set(meta["libraries"])
    assert meta["config"]["c"] == model.config["c"]
    assert current_version(tmp_path / "models") == model.version
    loaded = load_model(tmp_path / "models")
    assert loaded.version == model.version
    assert loaded.classifier.labels == model.classifier.labels


def test_fingerprint_changes_with_data(data_dir):
    data, _ = read_training_data(data_dir)
    before = data.fingerprint()
    data.examples.pop()
    assert data.fingerprint() != before


async def test_build_interpreter_trains_when_missing_then_loads(data_dir, tmp_path):
    config = NluConfig(model_dir=tmp_path / "models", data_dir=data_dir)
    interpreter = build_interpreter(config)
    parse = await interpreter.parse("i can pay $50 on the 15th", reference_time=REF)
    assert parse.intent.name == "promise_to_pay"
    assert parse.first("amount").value == "50.00"
    assert parse.first("date").value == "2026-12-15"
    version = current_version(tmp_path / "models")
    again = build_interpreter(config)
    assert isinstance(again, EmbeddedInterpreter) and again.model.version == version


def test_build_interpreter_refuses_without_model_when_not_allowed(data_dir, tmp_path):
    config = NluConfig(model_dir=tmp_path / "none", data_dir=data_dir, train_if_missing=False)
    with pytest.raises(FileNotFoundError):
        build_interpreter(config)


async def test_low_confidence_becomes_out_of_scope_with_ranking(data_dir, tmp_path):
    config = NluConfig(model_dir=tmp_path / "m", data_dir=data_dir, threshold=0.999)
    parse = await build_interpreter(config).parse("qwerty zxcv", reference_time=REF)
    assert parse.intent.name == "out_of_scope"
    assert parse.extra["low_confidence"] is True
    assert len(parse.ranking) == 4 and parse.ranking[0].name != "out_of_scope"
    rasa = parse.to_rasa()
    assert rasa["intent"]["name"] == "out_of_scope" and len(rasa["intent_ranking"]) == 4
