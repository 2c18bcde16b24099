"""Versioned model artifacts: save, load and the `current` pointer under a model directory."""

from __future__ import annotations

import json
import pickle
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from nlu.classifier import IntentClassifier

ARTIFACT = "model.pkl"
METADATA = "metadata.json"
CURRENT = "current"
_LIBRARIES = ("scikit-learn", "numpy", "scipy")


@dataclass
class NluModel:
    """A trained classifier and what it was trained from."""

    classifier: IntentClassifier
    data_hash: str
    config: dict[str, Any]
    version: str = ""
    created_at: str = ""
    libraries: dict[str, str] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        """What `metadata.json` records."""
        return {
            "version": self.version, "created_at": self.created_at, "data_hash": self.data_hash,
            "config": self.config, "libraries": self.libraries, "intents": self.classifier.labels,
        }


def library_versions() -> dict[str, str]:
    """Versions of the libraries a pickled model depends on."""
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def save_model(model: NluModel, model_dir: Path, *, make_current: bool = True) -> Path:
    """Write the model under `model_dir/<version>/` and point `current` at it."""
    now = datetime.now(UTC)
    model.created_at = model.created_at or now.isoformat(timespec="seconds")
    model.version = model.version or f"{now:%Y%m%dT%H%M%SZ}-{model.data_hash[:8]}"
    model.libraries = model.libraries or library_versions()
    target = model_dir / model.version
    target.mkdir(parents=True, exist_ok=True)
    with (target / ARTIFACT).open("wb") as handle:
        pickle.dump(model.classifier, handle, protocol=pickle.HIGHEST_PROTOCOL)
    (target / METADATA).write_text(json.dumps(model.metadata(), indent=2) + "\n")
    if make_current:
        (model_dir / CURRENT).write_text(model.version + "\n")
    return target


def current_version(model_dir: Path) -> str | None:
    """The version `current` points at, if it exists on disk."""
    pointer = model_dir / CURRENT
    if not pointer.is_file():
        return None
    version = pointer.read_text().strip()
    return version if (model_dir / version / ARTIFACT).is_file() else None


def load_model(model_dir: Path, version: str | None = None) -> NluModel:
    """Load a version (default: current). Only load artifacts this deployment wrote: pickle."""
    version = version or current_version(model_dir)
    if version is None:
        raise FileNotFoundError(f"no current NLU model under {model_dir}")
    folder = model_dir / version
    meta = json.loads((folder / METADATA).read_text())
    with (folder / ARTIFACT).open("rb") as handle:
        classifier = pickle.load(handle)  # noqa: S301 — our own artifact, written by save_model
    if not isinstance(classifier, IntentClassifier):
        raise TypeError(f"{folder / ARTIFACT} is not an IntentClassifier")
    return NluModel(classifier, meta["data_hash"], meta["config"], meta["version"],
                    meta["created_at"], meta["libraries"])


def is_compatible(model: NluModel) -> bool:
    """Whether the model was pickled by the same library versions as this process."""
    return model.libraries == library_versions()
