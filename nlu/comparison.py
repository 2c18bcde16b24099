"""Compare a candidate model with the live one on the same held-out messages, per intent."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlu.classifier import IntentClassifier
from nlu.evaluation import score
from nlu.heldout import load_held_out
from nlu.model import current_version, library_versions, load_held_out_classifier, read_metadata


@dataclass(frozen=True)
class IntentRow:
    """One intent's F1 for both models on the held-out messages."""

    intent: str
    support: int
    live_f1: float | None
    candidate_f1: float

    @property
    def delta(self) -> float | None:
        """Candidate minus live (None when there is no live model)."""
        return None if self.live_f1 is None else round(self.candidate_f1 - self.live_f1, 4)


@dataclass(frozen=True)
class Comparison:
    """The candidate against the live model; `promotable` with the `reason` either way."""

    candidate: str
    live: str | None
    examples: int
    candidate_score: dict[str, Any]
    live_score: dict[str, Any] | None
    rows: list[IntentRow] = field(default_factory=list)

    @property
    def promotable(self) -> bool:
        """Not worse overall: the candidate's macro F1 is at least the live model's."""
        if self.live_score is None or self.candidate == self.live:
            return self.candidate != self.live
        return bool(self.candidate_score["macro_f1"] >= self.live_score["macro_f1"])

    @property
    def reason(self) -> str:
        """Why the candidate may or may not be promoted, in one sentence."""
        if self.candidate == self.live:
            return "this version is already live"
        if self.live_score is None:
            return "there is no live model scored on held-out data yet"
        new, old = self.candidate_score["macro_f1"], self.live_score["macro_f1"]
        if new >= old:
            return f"macro F1 {new:.4f} is not worse than the live model's {old:.4f}"
        return f"macro F1 {new:.4f} is worse than the live model's {old:.4f}"


def compare(model_dir: Path, candidate: str, live: str | None = None) -> Comparison:
    """Score the candidate and the live model (default: `current`) on the candidate's
    held-out messages.

    Each side is scored through its version's twin trained without the held-out messages, so
    neither has seen them; the served models themselves train on everything.
    """
    held_out = load_held_out(model_dir / candidate)
    twin = load_held_out_classifier(model_dir, candidate)
    if twin is None:
        raise FileNotFoundError(f"{candidate} has no held-out twin to compare with")
    candidate_score = score(twin, held_out)
    live = live or current_version(model_dir)
    live_score = None
    live_twin = None if live is None else _comparable_twin(model_dir, live)
    if live_twin is not None:
        live_score = score(live_twin, held_out)
    return Comparison(candidate, live, len(held_out.examples), candidate_score, live_score,
                      _rows(candidate_score, live_score))


def _comparable_twin(model_dir: Path, version: str) -> IntentClassifier | None:
    # Versions from before the held-out split have no twin: they trained on these messages.
    meta = read_metadata(model_dir, version)
    if meta["libraries"] != library_versions():
        return None
    return load_held_out_classifier(model_dir, version)


def _rows(candidate: dict[str, Any], live: dict[str, Any] | None) -> list[IntentRow]:
    return [
        IntentRow(intent, row["support"], None if live is None else live["intents"][intent]["f1"],
                  row["f1"])
        for intent, row in candidate["intents"].items()
    ]
