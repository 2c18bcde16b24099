"""Candidates compared with the live model on the same held-out data; promote, refuse, roll back."""

import json
from datetime import UTC, datetime

import pytest
from nlu_fixtures import write_small_data

from nlu.accepted import AcceptedExample, merge
from nlu.comparison import compare
from nlu.heldout import is_held_out, load_held_out, split
from nlu.model import (
    HELD_OUT_ARTIFACT,
    current_version,
    list_versions,
    load_held_out_classifier,
    load_model,
)
from nlu.promotion import PromotionRefused, promote, read_history, rollback
from nlu.reader import read_training_data
from nlu.training import train_candidate

T1 = datetime(2026, 11, 25, 15, tzinfo=UTC)
T2 = datetime(2026, 11, 25, 16, tzinfo=UTC)
T3 = datetime(2026, 11, 25, 17, tzinfo=UTC)


@pytest.fixture
def data(tmp_path):
    loaded, problems = read_training_data(write_small_data(tmp_path / "data"))
    assert not problems
    return loaded


@pytest.fixture
def live(data, tmp_path):
    """A model directory whose first model went live."""
    model, comparison = train_candidate(data, tmp_path / "models", now=T1, by="test")
    assert current_version(tmp_path / "models") == model.version
    assert comparison.reason == "this version is already live"
    return model


def _worse(data):
    """Every greeting relabelled as affirm: the candidate cannot recognise a greeting."""
    train, _ = split(data)
    return merge(data, [AcceptedExample(e.text, "affirm") for e in train.examples
                        if e.intent == "greet"])


def test_the_split_is_fixed_by_text_and_accepted_examples_always_train(data):
    train, held_out = split(data)
    assert held_out.examples and train.examples
    assert {e.text for e in held_out.examples}.isdisjoint(e.text for e in train.examples)
    assert split(data)[1].texts == held_out.texts
    relabelled = merge(data, [AcceptedExample(held_out.texts[0], "affirm")])
    assert held_out.texts[0] not in split(relabelled)[1].texts
    assert not any(is_held_out(e) for e in merge(data, [AcceptedExample("x y", "greet")])
                   .examples if e.file == "<accepted>")


def test_a_version_records_its_data_hash_evaluation_and_held_out_messages(data, live, tmp_path):
    models = tmp_path / "models"
    meta = json.loads((models / live.version / "metadata.json").read_text())
    assert meta["data_hash"] == data.fingerprint()
    assert 0 < meta["evaluation"]["macro_f1"] <= 1
    assert meta["evaluation"]["examples"] == len(split(data)[1].examples)
    assert set(meta["evaluation"]["intents"]) <= {"greet", "affirm", "opt_out", "promise_to_pay"}
    assert load_held_out(models / live.version).texts == split(data)[1].texts
    assert meta["details"]["trained_on"] == len(split(data)[0].examples)
    # The served model learns from everything; its twin, scored above, never saw the held out.
    twin = load_held_out_classifier(models, live.version)
    assert twin is not None
    held_out = split(data)[1]
    assert twin.predict_proba(held_out.texts).shape == (len(held_out.examples), 4)
    served = live.classifier.predict_proba(held_out.texts)
    assert [live.classifier.labels[i] for i in served.argmax(axis=1)] == held_out.labels


def test_a_candidate_is_compared_per_intent_on_the_same_held_out_data(data, live, tmp_path):
    models = tmp_path / "models"
    better = merge(data, [AcceptedExample("yo what's up", "greet")])
    candidate, comparison = train_candidate(better, models, now=T2, by="test")
    assert current_version(models) == live.version  # a candidate is not live yet
    assert (comparison.candidate, comparison.live) == (candidate.version, live.version)
    assert comparison.examples == len(split(data)[1].examples)
    assert comparison.live_score is not None
    assert comparison.live_score["macro_f1"] == live.evaluation["macro_f1"]
    assert [r.intent for r in comparison.rows] == sorted(comparison.candidate_score["intents"])
    for row in comparison.rows:
        assert row.live_f1 == comparison.live_score["intents"][row.intent]["f1"]
        assert row.delta == round(row.candidate_f1 - row.live_f1, 4)
    assert comparison.promotable
    assert [m["version"] for m in list_versions(models)] == [candidate.version, live.version]


def test_promote_when_not_worse_refuse_when_worse_and_roll_back(data, live, tmp_path):
    models = tmp_path / "models"
    good, _ = train_candidate(merge(data, [AcceptedExample("yo what's up", "greet")]), models,
                              now=T2, by="test")
    promote(models, good.version, now=T2, by="agent:1")
    assert current_version(models) == good.version

    bad, comparison = train_candidate(_worse(data), models, now=T3, by="test")
    assert not comparison.promotable
    assert "worse than the live model" in comparison.reason
    with pytest.raises(PromotionRefused, match="not promoted: macro F1") as refused:
        promote(models, bad.version, now=T3, by="agent:1")
    assert refused.value.comparison is not None
    assert current_version(models) == good.version

    assert rollback(models, now=T3, by="agent:1") == live.version
    assert current_version(models) == live.version
    with pytest.raises(PromotionRefused, match="no previous live model"):
        rollback(models, now=T3, by="agent:1")
    log = read_history(models)["log"]
    assert [(e["action"], e["version"], e["by"]) for e in log] == [
        ("first", live.version, "test"), ("promoted", good.version, "agent:1"),
        ("rolled_back", live.version, "agent:1")]
    assert log[1]["at"] == T2.isoformat()


def test_promoting_an_unknown_version_is_refused(live, tmp_path):
    with pytest.raises(PromotionRefused, match="no model version"):
        promote(tmp_path / "models", "nope", now=T2, by="test")


def test_a_live_model_from_before_the_held_out_split_is_not_compared(data, live, tmp_path):
    models = tmp_path / "models"
    (models / live.version / HELD_OUT_ARTIFACT).unlink()  # as versions built before the split
    candidate, _ = train_candidate(data, models, now=T2, by="test")
    comparison = compare(models, candidate.version)
    assert comparison.live_score is None and comparison.promotable
    assert "no live model scored on held-out data" in comparison.reason
    assert load_model(models, candidate.version).data_hash == live.data_hash


@pytest.mark.parametrize("version", ["..", "../models", ".hidden", "a/b", ""])
def test_a_version_name_cannot_leave_the_model_directory(live, tmp_path, version):
    with pytest.raises(PromotionRefused, match="no model version"):
        promote(tmp_path / "models", version, now=T2, by="test")
