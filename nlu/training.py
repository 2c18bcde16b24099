"""Train an NLU model from training data and store it as a versioned artifact."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from nlu.accepted import ACCEPTED_SOURCE, AcceptedExample, merge
from nlu.classifier import ClassifierConfig, IntentClassifier
from nlu.comparison import Comparison, compare
from nlu.dataset import Problem, TrainingData
from nlu.evaluation import score
from nlu.heldout import save_held_out, split
from nlu.model import NluModel, current_version, save_model
from nlu.promotion import mark_live
from nlu.reader import read_training_data
from nlu.types import INTENTS
from nlu.validation import ValidationConfig, validate


class TrainingDataError(ValueError):
    """Training data has problems; `problems` lists each with file, line and fix."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} training data problem(s)")
        self.problems = problems


def load_and_validate(
    data_dir: Path, config: ValidationConfig | None = None
) -> tuple[TrainingData, list[Problem]]:
    """Read `data_dir` and run every check; the problems of both steps together."""
    data, problems = read_training_data(data_dir)
    return data, [*problems, *validate(data, config)]


def train_model(data: TrainingData, config: ClassifierConfig | None = None) -> NluModel:
    """Fit a classifier on the examples whose intent is a known label."""
    config = config or ClassifierConfig()
    known = [e for e in data.examples if e.intent in INTENTS]
    classifier = IntentClassifier(config).fit([e.text for e in known], [e.intent for e in known])
    return NluModel(classifier, data.fingerprint(), config.to_dict())


def train_version(
    data: TrainingData, model_dir: Path, *, now: datetime,
    config: ClassifierConfig | None = None,
) -> NluModel:
    """Train on all of `data` and, for the evaluation, a twin without the held-out messages;
    save both as a candidate version.

    The version records the hash of `data` and the twin's held-out evaluation; the held-out
    messages and the twin are saved beside it, so any comparison uses exactly those.
    """
    train, held_out = split(data)
    model = train_model(data, config)
    model.held_out_classifier = train_model(train, config).classifier
    model.evaluation = score(model.held_out_classifier, held_out)
    model.details = {"examples": len(data.examples), "trained_on": len(train.examples),
                     "accepted": sum(e.file == ACCEPTED_SOURCE for e in data.examples)}
    folder = save_model(model, model_dir, make_current=False, now=now)
    save_held_out(held_out, folder)
    return model


def train_candidate(
    data: TrainingData, model_dir: Path, *, now: datetime, by: str,
    config: ClassifierConfig | None = None,
) -> tuple[NluModel, Comparison]:
    """A new candidate compared with the live model; the first model ever goes live at once."""
    model = train_version(data, model_dir, now=now, config=config)
    if current_version(model_dir) is None:
        mark_live(model_dir, model.version, now=now, by=by)
    return model, compare(model_dir, model.version)


def train_and_save(
    data_dir: Path, model_dir: Path, *, now: datetime, by: str = "cli", strict: bool = True,
    config: ClassifierConfig | None = None, accepted: Iterable[AcceptedExample] = (),
) -> tuple[NluModel, Comparison]:
    """Read the data plus the accepted examples, validate, train and compare a candidate.

    With `strict`, any problem in the merged data aborts before training.
    """
    data, problems = read_training_data(data_dir)
    data = merge(data, accepted)
    problems += validate(data)
    if strict and problems:
        raise TrainingDataError(problems)
    return train_candidate(data, model_dir, now=now, by=by, config=config)
