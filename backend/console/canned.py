"""Canned responses for the reply box, read from `canned.yml` in the debtor's language."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

CANNED_FILE = Path(__file__).resolve().parent / "canned.yml"


@dataclass(frozen=True)
class Canned:
    """One canned response with its text per language, and whether it is about the debt (the
    reply box's "Mentions the debt" tick it sets when chosen)."""

    title: str
    texts: dict[str, str]
    mentions_debt: bool = True

    def text(self, language: str | None, agent: str) -> str:
        """The text in `language` (English when missing) with the agent's name filled in."""
        return self.texts.get(language or "en", self.texts["en"]).replace("{agent}", agent)


@lru_cache(maxsize=4)
def load_canned(path: Path = CANNED_FILE) -> tuple[Canned, ...]:
    """Every canned response; each needs a title, an English text and `mentions_debt`."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = raw.get("responses", [])
    result = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not item.get("title") or not item.get("en"):
            raise ValueError(f"{path}: response {index} needs a `title` and an `en` text")
        if not isinstance(item.get("mentions_debt"), bool):
            raise ValueError(f"{path}: response {index} needs `mentions_debt: true` or `false`")
        texts = {k: str(v) for k, v in item.items() if k not in ("title", "mentions_debt")}
        result.append(Canned(str(item["title"]), texts, item["mentions_debt"]))
    return tuple(result)
