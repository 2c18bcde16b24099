"""Evaluate intents and entities: k-fold cross-validation or train/test, with reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix
from sklearn.model_selection import StratifiedKFold

from nlu.classifier import ClassifierConfig, IntentClassifier
from nlu.dataset import Example, TrainingData
from nlu.extractors import extract_entities
from nlu.types import ENTITY_TYPES

EVAL_REFERENCE_TIME = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class EvaluationReport:
    """Every figure `parley nlu evaluate` prints and writes."""

    labels: list[str]
    intents: dict[str, dict[str, float]]
    macro_f1: float
    weighted_f1: float
    accuracy: float
    confusion: list[list[int]]
    misclassified: list[dict[str, Any]]
    entities: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return dict(self.__dict__)


def cross_validate(
    data: TrainingData, folds: int = 5, config: ClassifierConfig | None = None
) -> EvaluationReport:
    """Stratified k-fold: every example is predicted by a model that never saw it."""
    examples = data.examples
    labels = [e.intent for e in examples]
    folds = max(2, min(folds, min(Counter(labels).values())))
    predicted: list[str] = [""] * len(examples)
    confidence = [0.0] * len(examples)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=13)
    for train, test in splitter.split(np.zeros(len(labels)), labels):
        _predict_into(examples, train, test, config, predicted, confidence)
    return _report(examples, predicted, confidence, data.synonyms)


def train_test(
    train: TrainingData, test: TrainingData, config: ClassifierConfig | None = None
) -> EvaluationReport:
    """Train on one set, score on another."""
    classifier = IntentClassifier(config).fit(train.texts, train.labels)
    probs = classifier.predict_proba(test.texts)
    predicted = [classifier.labels[i] for i in probs.argmax(axis=1)]
    return _report(test.examples, predicted, probs.max(axis=1).tolist(), train.synonyms)


def _predict_into(
    examples: list[Example], train: Any, test: Any, config: ClassifierConfig | None,
    predicted: list[str], confidence: list[float],
) -> None:
    classifier = IntentClassifier(config).fit(
        [examples[i].text for i in train], [examples[i].intent for i in train]
    )
    probs = classifier.predict_proba([examples[i].text for i in test])
    for row, index in enumerate(test):
        predicted[index] = classifier.labels[int(probs[row].argmax())]
        confidence[index] = float(probs[row].max())


def _report(
    examples: list[Example], predicted: list[str], confidence: list[float],
    synonyms: dict[str, str],
) -> EvaluationReport:
    truth = [e.intent for e in examples]
    labels = sorted(set(truth) | set(predicted))
    table = classification_report(truth, predicted, labels=labels, output_dict=True,
                                  zero_division=0)
    misclassified = [
        {"text": e.text, "intent": e.intent, "predicted": p, "confidence": round(c, 4),
         "file": e.file, "line": e.line}
        for e, p, c in zip(examples, predicted, confidence, strict=True) if p != e.intent
    ]
    return EvaluationReport(
        labels=labels,
        intents={k: _rounded(table[k]) for k in labels},
        macro_f1=round(float(table["macro avg"]["f1-score"]), 4),
        weighted_f1=round(float(table["weighted avg"]["f1-score"]), 4),
        accuracy=round(float(np.mean([t == p for t, p in zip(truth, predicted, strict=True)])), 4),
        confusion=confusion_matrix(truth, predicted, labels=labels).tolist(),
        misclassified=misclassified,
        entities=evaluate_entities(examples, synonyms),
    )


def _rounded(row: dict[str, float]) -> dict[str, float]:
    return {k: round(float(v), 4) for k, v in row.items()}


def evaluate_entities(
    examples: list[Example], synonyms: dict[str, str] | None = None
) -> dict[str, dict[str, dict[str, float | None]]]:
    """Per entity type: P/R/F1 on exact spans, and on normalized values where gold has one;
    None where there was nothing to score."""
    spans = {kind: Counter[str]() for kind in ENTITY_TYPES}
    values = {kind: Counter[str]() for kind in ENTITY_TYPES}
    for example in examples:
        found = extract_entities(example.text, reference_time=EVAL_REFERENCE_TIME)
        gold = {(a.entity, a.start, a.end) for a in example.annotations}
        ours = {(e.entity, e.start, e.end) for e in found}
        _tally(spans, gold, ours)
        gold_values = {
            (a.entity, _gold_value(a.entity, a.value, a.text, synonyms or {}))
            for a in example.annotations
        }
        gold_values = {g for g in gold_values if g[1] is not None}
        kinds = {g[0] for g in gold_values}
        _tally(values, gold_values, {(e.entity, e.value) for e in found if e.entity in kinds})
    return {kind: {"span": _prf(spans[kind]), "value": _prf(values[kind])}
            for kind in ENTITY_TYPES}


def _gold_value(kind: str, value: str | None, text: str, synonyms: dict[str, str]) -> str | None:
    value = value or synonyms.get(text.lower())
    if value is None or kind != "amount":
        return value
    try:
        return f"{Decimal(value).quantize(Decimal('0.01'))}"
    except InvalidOperation:
        return value


def _tally(counters: dict[str, Counter[str]], gold: set[Any], ours: set[Any]) -> None:
    for item in gold | ours:
        kind = item[0]
        if kind not in counters:
            continue
        counters[kind]["tp" if item in gold and item in ours else
                       "fn" if item in gold else "fp"] += 1


def _prf(counts: Counter[str]) -> dict[str, float | None]:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    if not tp + fp + fn:  # nothing to score (e.g. no gold values): not a score of zero
        return {"precision": None, "recall": None, "f1": None, "support": 0}
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4),
            "f1": round(f1, 4), "support": tp + fn}


def score(classifier: IntentClassifier, test: TrainingData) -> dict[str, Any]:
    """A trained classifier on held-out `test`: per-intent P/R/F1, macro F1 and accuracy.

    Averages run over the intents present in `test`, so two models scored on the same data are
    scored over the same labels.
    """
    truth = test.labels
    probs = classifier.predict_proba(test.texts)
    predicted = [classifier.labels[i] for i in probs.argmax(axis=1)]
    labels = sorted(set(truth))
    table = classification_report(truth, predicted, labels=labels, output_dict=True,
                                  zero_division=0)
    return {
        "intents": {k: {"precision": round(float(table[k]["precision"]), 4),
                        "recall": round(float(table[k]["recall"]), 4),
                        "f1": round(float(table[k]["f1-score"]), 4),
                        "support": int(table[k]["support"])} for k in labels},
        "macro_f1": round(float(table["macro avg"]["f1-score"]), 4),
        "accuracy": round(float(np.mean([t == p for t, p in zip(truth, predicted,
                                                                 strict=True)])), 4),
        "examples": len(truth),
    }
