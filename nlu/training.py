"""Train an NLU model from training data and store it as a versioned artifact."""

from __future__ import annotations

from pathlib import Path

from nlu.classifier import ClassifierConfig, IntentClassifier
from nlu.dataset import Problem, TrainingData
from nlu.model import NluModel, save_model
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


def train_and_save(
    data_dir: Path, model_dir: Path, *, strict: bool = True,
    config: ClassifierConfig | None = None,
) -> NluModel:
    """Validate, train and save; with `strict`, any problem aborts before training."""
    data, problems = load_and_validate(data_dir)
    if strict and problems:
        raise TrainingDataError(problems)
    model = train_model(data, config)
    save_model(model, model_dir)
    return model
