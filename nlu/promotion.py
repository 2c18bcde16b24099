"""Promote a candidate to live when it is not worse, roll the live model back, keep a log."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from nlu.comparison import Comparison, compare
from nlu.model import ARTIFACT, current_version, set_current, write_atomically

HISTORY = "history.json"
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]*")


class PromotionRefused(ValueError):
    """The change of live model was refused; the message says why."""

    def __init__(self, reason: str, comparison: Comparison | None = None) -> None:
        super().__init__(reason)
        self.comparison = comparison


def read_history(model_dir: Path) -> dict[str, Any]:
    """{"stack": live versions oldest first, "log": promotions and rollbacks, newest last}."""
    path = model_dir / HISTORY
    history: dict[str, Any] = (json.loads(path.read_text()) if path.is_file()
                               else {"stack": [], "log": []})
    live = current_version(model_dir)
    if live and (not history["stack"] or history["stack"][-1] != live):
        history["stack"].append(live)  # made live outside this log (first start, by hand)
    return history


def promote(model_dir: Path, version: str, *, now: datetime, by: str) -> Comparison:
    """Make `version` live if it is not worse overall than the live model; else refuse."""
    if not _VERSION.fullmatch(version) or not (model_dir / version / ARTIFACT).is_file():
        raise PromotionRefused(f"no model version {version!r}")
    try:
        comparison = compare(model_dir, version)
    except FileNotFoundError as missing:
        raise PromotionRefused(f"{version} cannot be compared: {missing}") from None
    if not comparison.promotable:
        raise PromotionRefused(f"not promoted: {comparison.reason}", comparison)
    history = read_history(model_dir)
    set_current(model_dir, version)
    history["stack"].append(version)
    _log(model_dir, history, "promoted", version, now, by, comparison.reason)
    return comparison


def mark_live(model_dir: Path, version: str, *, now: datetime, by: str) -> None:
    """Record a version made live without a comparison (the very first model)."""
    history = read_history(model_dir)
    if not history["stack"] or history["stack"][-1] != version:
        history["stack"].append(version)
    set_current(model_dir, version)
    _log(model_dir, history, "first", version, now, by, "the first model")


def rollback(model_dir: Path, *, now: datetime, by: str) -> str:
    """Make the previously live version live again; returns it."""
    history = read_history(model_dir)
    if len(history["stack"]) < 2:
        raise PromotionRefused("there is no previous live model to roll back to")
    replaced = history["stack"].pop()
    previous = history["stack"][-1]
    set_current(model_dir, previous)
    _log(model_dir, history, "rolled_back", previous, now, by, f"replaced {replaced}")
    return str(previous)


def _log(model_dir: Path, history: dict[str, Any], action: str, version: str, now: datetime,
         by: str, reason: str) -> None:
    history["log"].append({"action": action, "version": version,
                           "at": now.isoformat(timespec="seconds"), "by": by, "reason": reason})
    write_atomically(model_dir / HISTORY, json.dumps(history, indent=2) + "\n")
