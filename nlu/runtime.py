"""Build the configured Interpreter at start-up: load the current model, train when missing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nlu.model import NluModel, current_version, is_compatible, load_model
from nlu.promotion import mark_live
from nlu.rasa_client import RasaInterpreter
from nlu.reader import read_training_data
from nlu.reloading import ReloadingInterpreter
from nlu.training import train_version
from nlu.types import Interpreter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NluConfig:
    """NLU settings, from NLU_BACKEND, RASA_URL, NLU_MODEL_DIR, NLU_TRAINING_DATA, ..."""

    model_dir: Path
    data_dir: Path
    backend: str = "embedded"
    rasa_url: str | None = None
    rasa_timeout: float = 2.0
    threshold: float = 0.5
    train_if_missing: bool = True
    reload_seconds: float = 5.0


def build_interpreter(config: NluConfig) -> Interpreter:
    """The embedded interpreter (following the live model), wrapped by Rasa when configured."""
    if config.backend not in ("embedded", "rasa"):
        raise ValueError(f"unknown NLU backend {config.backend!r} (use embedded or rasa)")
    embedded = ReloadingInterpreter(obtain_model(config), config.model_dir, config.threshold,
                                    every=config.reload_seconds)
    if config.backend == "embedded":
        return embedded
    if not config.rasa_url:
        raise ValueError("NLU_BACKEND=rasa needs RASA_URL")
    return RasaInterpreter(config.rasa_url, embedded, timeout=config.rasa_timeout,
                           threshold=config.threshold)


def obtain_model(config: NluConfig) -> NluModel:
    """The current model if usable; otherwise a fresh one when training is allowed."""
    if current_version(config.model_dir):
        model = load_model(config.model_dir)
        if is_compatible(model):
            return model
        log.warning("NLU model %s was built with %s; retraining", model.version,
                    model.libraries)
    if not config.train_if_missing:
        raise FileNotFoundError(f"no usable NLU model in {config.model_dir}; "
                                "run `parley nlu train`")
    return _train_now(config)


def _train_now(config: NluConfig) -> NluModel:
    data, problems = read_training_data(config.data_dir)
    if problems:
        log.warning("training data has %d problem(s); run `parley nlu validate`", len(problems))
    # Start-up has no injected clock; the version name is the only use of this time.
    now = datetime.now(UTC)
    model = train_version(data, config.model_dir, now=now)
    mark_live(config.model_dir, model.version, now=now, by="start-up")
    log.info("trained NLU model %s on %d examples", model.version, len(data.examples))
    return model
