"""Trainer-accepted examples: check them, write them as Rasa 3.x YAML, merge them into data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from nlu.annotations import Annotation
from nlu.dataset import Example, TrainingData
from nlu.masking import mask_pii
from nlu.reader import SUPPORTED_VERSION
from nlu.types import ENTITY_TYPES, INTENTS

ACCEPTED_FILE = "accepted.yml"
ACCEPTED_SOURCE = "<accepted>"
_HEADER = ("# Examples accepted by trainers in the console (masked). Written by\n"
           "# `parley nlu export`; review the diff like any other change to the data.\n")


class ExampleRefused(ValueError):
    """An accepted example that cannot become training data as given."""


@dataclass(frozen=True)
class Span:
    """One entity span in an accepted example's text (end exclusive)."""

    entity: str
    start: int
    end: int
    value: str | None = None


@dataclass(frozen=True)
class AcceptedExample:
    """A masked debtor message with the intent and entity spans a trainer gave it."""

    text: str
    intent: str
    spans: tuple[Span, ...] = ()


def clean_text(text: str) -> str:
    """One line, no annotation brackets, single spaces: what a YAML example line can hold."""
    return " ".join(text.replace("[", "(").replace("]", ")").split())


def text_key(text: str) -> str:
    """What makes two examples the same text (validation's duplicate check, or stricter)."""
    return " ".join(text.split()).lower()


def label_conflicts(examples: Iterable[AcceptedExample]) -> list[str]:
    """One sentence per text accepted under more than one intent (the data would contradict
    itself: `parley nlu validate` refuses it and a merge would keep one label at random)."""
    labels: dict[str, dict[str, None]] = {}
    texts: dict[str, str] = {}
    for example in examples:
        key = text_key(example.text)
        labels.setdefault(key, {})[example.intent] = None
        texts.setdefault(key, example.text)
    return [f"{texts[key]!r} is accepted as {' and as '.join(intents)}: undo all but one of "
            "these reviews in the trainer inbox"
            for key, intents in labels.items() if len(intents) > 1]


def _refuse_conflicts(examples: list[AcceptedExample]) -> None:
    conflicts = label_conflicts(examples)
    if conflicts:
        raise ExampleRefused("; ".join(conflicts))


def masked_again(example: AcceptedExample, *, today: date | None = None) -> AcceptedExample:
    """The example with its text masked by today's rules; spans over masked words are dropped.

    Examples saved before a kind of personal data was masked must not carry it into the data.
    """
    masked = mask_pii(example.text, today=today)
    if not masked.replaced:
        return example
    spans = []
    for span in example.spans:
        moved = masked.shift(span.start, span.end)
        if moved is not None:
            spans.append(replace(span, start=moved[0], end=moved[1]))
    return AcceptedExample(masked.text, example.intent, tuple(spans))


def check_example(example: AcceptedExample) -> AcceptedExample:
    """Refuse unknown labels, empty text and spans that do not fit the text."""
    if example.intent not in INTENTS:
        raise ExampleRefused(f"unknown intent {example.intent!r}")
    if not example.text.strip() or example.text != clean_text(example.text):
        raise ExampleRefused("the text must be one non-empty line without [ or ]")
    last = 0
    for span in sorted(example.spans, key=lambda s: s.start):
        words = example.text[span.start:span.end]
        if span.entity not in ENTITY_TYPES:
            raise ExampleRefused(f"unknown entity {span.entity!r}")
        if span.start < last or not words.strip() or words != words.strip():
            raise ExampleRefused(f"entity span {words!r} overlaps, is empty or has edge spaces")
        last = span.end
    return example


def annotate(example: AcceptedExample) -> str:
    """The example as one Rasa line: `[words](entity)` or `[words]{"entity": .., "value": ..}`."""
    parts, cursor = [], 0
    for span in sorted(example.spans, key=lambda s: s.start):
        words = example.text[span.start:span.end]
        parts += [example.text[cursor:span.start], f"[{words}]", _label(span)]
        cursor = span.end
    parts.append(example.text[cursor:])
    return "".join(parts)


def _label(span: Span) -> str:
    if span.value is None:
        return f"({span.entity})"
    value = span.value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{{"entity": "{span.entity}", "value": "{value}"}}'


def to_yaml(examples: Iterable[AcceptedExample]) -> str:
    """Rasa 3.x NLU YAML, intents and lines sorted, so re-exports diff line by line.

    A text accepted under two intents is refused (`ExampleRefused` names both); the same text
    under one intent is written once, with its latest spans.
    """
    examples = list(examples)
    _refuse_conflicts(examples)
    latest = {text_key(e.text): check_example(e) for e in examples}
    by_intent: dict[str, set[str]] = {}
    for example in latest.values():
        by_intent.setdefault(example.intent, set()).add(annotate(example))
    lines = [_HEADER + f'version: "{SUPPORTED_VERSION}"', "nlu:"]
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {line}" for line in sorted(by_intent[intent], key=str.lower)]
    if not by_intent:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n"


def merge(data: TrainingData, accepted: Iterable[AcceptedExample]) -> TrainingData:
    """`data` plus the accepted examples; a trainer's label replaces the same text's old one.

    Accepted examples that contradict each other are refused (`ExampleRefused`), never
    settled by which came last.
    """
    accepted = list(accepted)
    _refuse_conflicts(accepted)
    fresh = [_as_example(e) for e in accepted]
    texts = {text_key(e.text) for e in fresh}
    kept = [e for e in data.examples if text_key(e.text) not in texts]
    unique = list({text_key(e.text): e for e in fresh}.values())
    return TrainingData([*kept, *unique], dict(data.synonyms), dict(data.regexes),
                        dict(data.lookups))


def _as_example(example: AcceptedExample) -> Example:
    annotations = tuple(Annotation(s.entity, s.start, s.end, example.text[s.start:s.end],
                                   s.value) for s in example.spans)
    return Example(example.text, example.intent, annotations, ACCEPTED_SOURCE, 0)


def is_accepted(example: Example) -> bool:
    """Whether an example came from a trainer (the database or an exported accepted file)."""
    return example.file == ACCEPTED_SOURCE or example.file.endswith(ACCEPTED_FILE)
