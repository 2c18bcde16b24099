"""Training data in memory: examples, synonyms, regexes, lookups, and reading problems."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from nlu.annotations import Annotation


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the training data, where it is and how to fix it."""

    file: str
    line: int
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message} — fix: {self.fix}"


@dataclass(frozen=True)
class Example:
    """One labelled training message with its entity annotations."""

    text: str
    intent: str
    annotations: tuple[Annotation, ...] = ()
    file: str = "<memory>"
    line: int = 0


@dataclass
class TrainingData:
    """Everything the NLU trains from."""

    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)
    regexes: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)

    @property
    def texts(self) -> list[str]:
        """The example texts, in order."""
        return [e.text for e in self.examples]

    @property
    def labels(self) -> list[str]:
        """The example intents, in order."""
        return [e.intent for e in self.examples]

    def fingerprint(self) -> str:
        """A stable hash of the content that training depends on."""
        payload = {
            "examples": sorted([e.intent, e.text] for e in self.examples),
            "synonyms": sorted(self.synonyms.items()),
            "regexes": sorted((k, sorted(v)) for k, v in self.regexes.items()),
            "lookups": sorted((k, sorted(v)) for k, v in self.lookups.items()),
        }
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()
