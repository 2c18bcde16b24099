"""Whole-dataset checks: labels, counts, duplicates and near-duplicates across intents, entities."""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer

from nlu.dataset import Example, Problem, TrainingData
from nlu.types import ENTITY_TYPES, INTENTS

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
UNKNOWN_DIR = "the training data directory"


@dataclass(frozen=True)
class ValidationConfig:
    """Knobs for the strict checks."""

    min_examples: int = 40
    near_duplicate_similarity: float = 0.85
    near_duplicate_edits: int = 2
    intents: tuple[str, ...] = INTENTS
    entity_types: tuple[str, ...] = ENTITY_TYPES
    require_all_intents: bool = True
    require_all_entities: bool = True


def validate(data: TrainingData, config: ValidationConfig | None = None) -> list[Problem]:
    """Every problem in `data` that is not about a single file's syntax."""
    config = config or ValidationConfig()
    return [
        *_unknown_labels(data, config),
        *_counts(data, config),
        *_exact_duplicates(data),
        *_near_duplicates(data, config),
        *_entities(data, config),
    ]


def normalize_text(text: str) -> str:
    """Lower-case, strip accents, punctuation and emoji: what 'the same message' means."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", plain).split())


def exact_key(text: str) -> str:
    """What makes two examples the same text for the duplicate check."""
    return text.strip().lower()


def _normalized(text: str) -> str:
    # A message of emoji or punctuation only normalizes to nothing: compare it as written.
    return normalize_text(text) or text


def _vectors(normalized: list[str]) -> Any:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit_transform(normalized)


def _near(score: float, a: str, b: str, config: ValidationConfig) -> bool:
    """The near-duplicate rule over normalized texts and their n-gram similarity."""
    return score >= config.near_duplicate_similarity and is_typo_apart(
        a, b, config.near_duplicate_edits)


def _unknown_labels(data: TrainingData, config: ValidationConfig) -> list[Problem]:
    first: dict[str, Example] = {}
    for example in data.examples:
        if example.intent not in config.intents:
            first.setdefault(example.intent, example)
    return [
        Problem(e.file, e.line, f"unknown intent {name!r}",
                f"use one of {', '.join(config.intents)} (meanings in docs/TAXONOMY.md)")
        for name, e in first.items()
    ]


def _counts(data: TrainingData, config: ValidationConfig) -> list[Problem]:
    counts = Counter(data.labels)
    where = {e.intent: e for e in data.examples}
    wanted = config.intents if config.require_all_intents else tuple(counts)
    folder = _source_dir(data)
    if wanted and not data.examples:  # one line, not one per intent saying 0
        return [Problem(folder, 0, "no intent examples at all",
                        f"add at least {config.min_examples} examples for each of "
                        f"{', '.join(wanted)} (meanings in docs/TAXONOMY.md)")]
    problems = []
    for intent in wanted:
        if counts[intent] >= config.min_examples:
            continue
        example = where.get(intent)
        problems.append(Problem(
            example.file if example else folder, example.line if example else 0,
            f"intent {intent!r} has {counts[intent]} examples (minimum {config.min_examples})",
            f"add {config.min_examples - counts[intent]} or more varied examples",
        ))
    return problems


def _source_dir(data: TrainingData) -> str:
    """The directory the examples were read from: where an intent without any is missing."""
    # Accepted examples come from the database ("<accepted>"), not from a file.
    folders = {os.path.dirname(e.file) or "." for e in data.examples if not e.file.startswith("<")}
    try:
        return os.path.commonpath(sorted(folders))
    except ValueError:  # none, or absolute and relative mixed: no single directory to name
        return UNKNOWN_DIR


def _exact_duplicates(data: TrainingData) -> list[Problem]:
    seen: dict[str, Example] = {}
    problems = []
    for example in data.examples:
        key = exact_key(example.text)
        other = seen.get(key)
        if other is None:
            seen[key] = example
        elif other.intent != example.intent:
            problems.append(_two_intents(example, other))
        else:
            problems.append(Problem(example.file, example.line,
                                    f"example {example.text!r} repeats {other.file}:{other.line}",
                                    "delete the repeated line"))
    return problems


def _near_duplicates(data: TrainingData, config: ValidationConfig) -> list[Problem]:
    unique = _unique_by_text(data.examples)
    if len(unique) < 2:
        return []
    normalized = [_normalized(e.text) for e in unique]
    vectors = _vectors(normalized)
    similarity = (vectors @ vectors.T).tocoo()
    problems = []
    reported: set[tuple[int, int]] = set()
    for i, j, score in zip(similarity.row, similarity.col, similarity.data, strict=True):
        a, b = unique[i], unique[j]
        if i >= j or a.intent == b.intent or not _near(score, normalized[i], normalized[j],
                                                        config):
            continue
        if (i, j) not in reported:
            reported.add((i, j))
            problems.append(_clash(b, a, "is a near-duplicate (a typo or punctuation apart)"))
    return problems


def _unique_by_text(examples: list[Example]) -> list[Example]:
    seen: dict[str, Example] = {}
    for example in examples:
        seen.setdefault(exact_key(example.text), example)
    return list(seen.values())


def clashes(example: Example, others: Sequence[Example],
            config: ValidationConfig | None = None) -> list[int]:
    """Where in `others` an example under another intent is what `validate` would report
    `example` with: the same text first, then near-duplicates (the same rule)."""
    config = config or ValidationConfig()
    key = exact_key(example.text)
    rivals = [i for i, other in enumerate(others) if other.intent != example.intent]
    same = [i for i in rivals if exact_key(others[i].text) == key]
    taken = set(same)
    return same + _near_clashes(example, others, [i for i in rivals if i not in taken], config)


def _near_clashes(example: Example, others: Sequence[Example], rivals: list[int],
                  config: ValidationConfig) -> list[int]:
    text = _normalized(example.text)
    # The edit rule is cheap and rarely holds: only then are the n-grams weighed, over the
    # whole data as `validate` weighs them.
    typos = [i for i in rivals
             if is_typo_apart(text, _normalized(others[i].text), config.near_duplicate_edits)]
    if not typos:
        return []
    unique = _unique_by_text([example, *others])
    row = {exact_key(e.text): n for n, e in enumerate(unique)}
    vectors = _vectors([_normalized(e.text) for e in unique])
    scores = (vectors[[row[exact_key(others[i].text)] for i in typos]] @ vectors[0].T).toarray()
    return [i for i, score in zip(typos, scores[:, 0], strict=True)
            if _near(float(score), text, _normalized(others[i].text), config)]


_ONE_INTENT = ("keep the message under the one intent that decides the next action "
               "(docs/TAXONOMY.md, Hard cases)")


def _clash(example: Example, other: Example, what: str) -> Problem:
    return Problem(
        example.file, example.line,
        f"example {example.text!r} ({example.intent}) {what} of {other.text!r} "
        f"({other.intent}, {other.file}:{other.line})",
        _ONE_INTENT,
    )


def _two_intents(example: Example, other: Example) -> Problem:
    """The same text (up to case and spaces) written under two intents."""
    as_written = "" if other.text == example.text else f", as {other.text!r}"
    return Problem(
        example.file, example.line,
        f"example {example.text!r} is under two intents: {other.intent!r} "
        f"({other.file}:{other.line}{as_written}) and {example.intent!r} "
        f"({example.file}:{example.line})",
        _ONE_INTENT,
    )


def _entities(data: TrainingData, config: ValidationConfig) -> list[Problem]:
    used: dict[str, int] = defaultdict(int)
    problems = []
    for example in data.examples:
        for annotation in example.annotations:
            used[annotation.entity] += 1
            if annotation.entity not in config.entity_types:
                problems.append(Problem(
                    example.file, example.line, f"unknown entity {annotation.entity!r}",
                    f"use one of {', '.join(config.entity_types)}",
                ))
    if config.require_all_entities and data.examples:
        folder = _source_dir(data)
        for entity in config.entity_types:
            if not used[entity]:
                problems.append(Problem(folder, 0,
                                        f"entity {entity!r} is never annotated",
                                        f"annotate it in examples, e.g. [..]({entity})"))
    return problems



def is_typo_apart(a: str, b: str, max_edits: int) -> bool:
    """Same words but spacing, or one long word misspelt: 'cant pay' ~ 'can t pay'."""
    if a.replace(" ", "") == b.replace(" ", ""):
        return True
    words_a, words_b = a.split(), b.split()
    if len(words_a) != len(words_b):
        return False
    diffs = [(x, y) for x, y in zip(words_a, words_b, strict=True) if x != y]
    return len(diffs) == 1 and min(map(len, diffs[0])) >= 4 and (
        edit_distance(*diffs[0]) <= max_edits)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (only run on the few pairs the n-gram filter lets through)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
