"""Versioned model artifacts: save, load and the `current` pointer under a model directory."""

from __future__ import annotations

import json
import os
import pickle
import platform
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from nlu.classifier import IntentClassifier

ARTIFACT = "model.pkl"
HELD_OUT_ARTIFACT = "held_out_model.pkl"  # the same recipe without the held-out messages
METADATA = "metadata.json"
CURRENT = "current"
_LIBRARIES = ("scikit-learn", "numpy", "scipy", "wordllama", "tokenizers")


@dataclass
class NluModel:
    """A trained classifier and what it was trained from."""

    classifier: IntentClassifier
    data_hash: str
    config: dict[str, Any]
    version: str = ""
    created_at: str = ""
    libraries: dict[str, str] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    held_out_classifier: IntentClassifier | None = None

    def metadata(self) -> dict[str, Any]:
        """What `metadata.json` records."""
        return {
            "version": self.version, "created_at": self.created_at, "data_hash": self.data_hash,
            "config": self.config, "libraries": self.libraries, "intents": self.classifier.labels,
            "evaluation": self.evaluation, "details": self.details,
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


def save_model(
    model: NluModel, model_dir: Path, *, make_current: bool = True, now: datetime | None = None
) -> Path:
    """Write the model under `model_dir/<version>/` and (by default) point `current` at it."""
    now = now or datetime.now(UTC)
    model.created_at = model.created_at or now.isoformat(timespec="seconds")
    model.version = model.version or _new_version(model_dir, now, model.data_hash)
    model.libraries = model.libraries or library_versions()
    target = model_dir / model.version
    target.mkdir(parents=True, exist_ok=True)
    _pickle(target / ARTIFACT, model.classifier)
    if model.held_out_classifier is not None:
        _pickle(target / HELD_OUT_ARTIFACT, model.held_out_classifier)
    write_atomically(target / METADATA, json.dumps(model.metadata(), indent=2) + "\n")
    if make_current:
        set_current(model_dir, model.version)
    return target


def _pickle(path: Path, classifier: IntentClassifier) -> None:
    with path.open("wb") as handle:
        pickle.dump(classifier, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _unpickle(path: Path) -> IntentClassifier:
    with path.open("rb") as handle:
        classifier = pickle.load(handle)  # noqa: S301 — our own artifact, written by save_model
    if not isinstance(classifier, IntentClassifier):
        raise TypeError(f"{path} is not an IntentClassifier")
    return classifier


def _new_version(model_dir: Path, now: datetime, data_hash: str) -> str:
    base = f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{data_hash[:8]}"
    version, n = base, 1
    while (model_dir / version).exists():
        n += 1
        version = f"{base}-{n}"
    return version


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` in one step: readers see the old content or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def set_current(model_dir: Path, version: str) -> None:
    """Point `current` (the live model every process loads) at `version`."""
    if not (model_dir / version / ARTIFACT).is_file():
        raise FileNotFoundError(f"no model {version!r} under {model_dir}")
    write_atomically(model_dir / CURRENT, version + "\n")


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
    return NluModel(_unpickle(folder / ARTIFACT), meta["data_hash"], meta["config"],
                    meta["version"], meta["created_at"], meta["libraries"],
                    meta.get("evaluation") or {}, meta.get("details") or {})


def load_held_out_classifier(model_dir: Path, version: str) -> IntentClassifier | None:
    """The version's twin trained without the held-out messages (None for older versions)."""
    path = model_dir / version / HELD_OUT_ARTIFACT
    return _unpickle(path) if path.is_file() else None


def read_metadata(model_dir: Path, version: str) -> dict[str, Any]:
    """A version's `metadata.json` (no unpickling)."""
    meta: dict[str, Any] = json.loads((model_dir / version / METADATA).read_text())
    return meta


def list_versions(model_dir: Path) -> list[dict[str, Any]]:
    """Every saved version's metadata, newest first."""
    if not model_dir.is_dir():
        return []
    # Ordered by when the files were written: a sandbox clock may name versions in the past.
    folders = sorted((p for p in model_dir.iterdir()
                      if (p / METADATA).is_file() and (p / ARTIFACT).is_file()),
                     key=lambda p: ((p / ARTIFACT).stat().st_mtime_ns, p.name), reverse=True)
    return [read_metadata(model_dir, p.name) for p in folders]


def is_compatible(model: NluModel) -> bool:
    """Whether the model was pickled by the same library versions as this process."""
    return model.libraries == library_versions()
