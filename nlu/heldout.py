"""A fixed held-out split: the same messages are never trained on, by any model version."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from nlu.accepted import is_accepted
from nlu.dataset import Example, TrainingData
from nlu.validation import normalize_text

HELD_OUT_PERCENT = 20
HELD_OUT_FILE = "held_out.json"


def is_held_out(example: Example, percent: int = HELD_OUT_PERCENT) -> bool:
    """Decided by a hash of the normalized text, so the split never depends on the data's order.

    Trainer-accepted examples always train: they are the corrections the next model must learn.
    """
    if is_accepted(example):
        return False
    digest = hashlib.sha256(normalize_text(example.text).encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def split(data: TrainingData, percent: int = HELD_OUT_PERCENT) -> tuple[TrainingData,
                                                                          TrainingData]:
    """(train, held out) with the same synonyms, regexes and lookups."""
    train = [e for e in data.examples if not is_held_out(e, percent)]
    test = [e for e in data.examples if is_held_out(e, percent)]
    return _like(data, train), _like(data, test)


def _like(data: TrainingData, examples: list[Example]) -> TrainingData:
    return TrainingData(examples, dict(data.synonyms), dict(data.regexes), dict(data.lookups))


def save_held_out(data: TrainingData, folder: Path) -> Path:
    """Keep a version's held-out messages beside it, so later comparisons use exactly these."""
    path = folder / HELD_OUT_FILE
    rows = [{"text": e.text, "intent": e.intent} for e in data.examples]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    return path


def load_held_out(folder: Path) -> TrainingData:
    """The held-out messages saved with a version."""
    rows = json.loads((folder / HELD_OUT_FILE).read_text(encoding="utf-8"))
    return TrainingData([Example(r["text"], r["intent"], (), str(folder / HELD_OUT_FILE), 0)
                         for r in rows])
