"""Canned responses for the reply box, read from `canned.yml` in the debtor's language."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

CANNED_FILE = Path(__file__).resolve().parent / "canned.yml"


@dataclass(frozen=True)
class Canned:
    """One canned response with its text per language."""

    title: str
    texts: dict[str, str]

    def text(self, language: str | None, agent: str) -> str:
        """The text in `language` (English when missing) with the agent's name filled in."""
        return self.texts.get(language or "en", self.texts["en"]).replace("{agent}", agent)


@lru_cache(maxsize=4)
def load_canned(path: Path = CANNED_FILE) -> tuple[Canned, ...]:
    """Every canned response; each needs a title and an English text."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = raw.get("responses", [])
    result = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not item.get("title") or not item.get("en"):
            raise ValueError(f"{path}: response {index} needs a `title` and an `en` text")
        texts = {k: str(v) for k, v in item.items() if k != "title"}
        result.append(Canned(str(item["title"]), texts))
    return tuple(result)
