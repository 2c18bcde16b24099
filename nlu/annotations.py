"""Parse Rasa inline entity annotations: `[text](entity)` and `[text]{"entity": ...}`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_ANNOTATION = re.compile(r"\[(?P<text>[^\[\]]*)\](?:\((?P<short>[^()]*)\)|(?P<json>\{[^{}]*\}))")
_ENTITY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_SHORT_FORM = re.compile(r"^(?P<entity>[^:]+)(?::(?P<value>.+))?$")


class AnnotationError(ValueError):
    """An annotation that cannot be read; `fix` tells the trainer what to write instead."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


@dataclass(frozen=True)
class Annotation:
    """One annotated span in the plain text, with the value the trainer gave (if any)."""

    entity: str
    start: int
    end: int
    text: str
    value: str | None = None


@dataclass(frozen=True)
class AnnotatedText:
    """An example with its annotations removed and their spans recorded."""

    text: str
    annotations: tuple[Annotation, ...] = ()


def parse_annotated(raw: str) -> AnnotatedText:
    """Strip annotations from `raw` and return the plain text with entity spans.

    Raises AnnotationError for unbalanced brackets, empty spans, bad JSON or bad names.
    """
    parts: list[str] = []
    annotations: list[Annotation] = []
    cursor = 0
    for match in _ANNOTATION.finditer(raw):
        parts.append(raw[cursor:match.start()])
        start = sum(len(p) for p in parts)
        span = match.group("text")
        entity, value = _entity_and_value(match)
        _check_span(span, match.group(0))
        parts.append(span)
        annotations.append(Annotation(entity, start, start + len(span), span, value))
        cursor = match.end()
    parts.append(raw[cursor:])
    text = "".join(parts)
    _check_leftovers(text)
    return AnnotatedText(text, tuple(annotations))


def _entity_and_value(match: re.Match[str]) -> tuple[str, str | None]:
    if match.group("json") is not None:
        return _from_json(match.group("json"))
    short = _SHORT_FORM.match(match.group("short").strip())
    if not short:
        raise AnnotationError(
            f"empty entity name in {match.group(0)!r}", "write [text](entity), e.g. [$50](amount)"
        )
    return _checked_name(short.group("entity").strip()), short.group("value")


def _from_json(blob: str) -> tuple[str, str | None]:
    try:
        data = json.loads(blob)
    except json.JSONDecodeError as exc:
        raise AnnotationError(
            f"invalid JSON in entity annotation {blob!r}: {exc.msg}",
            'use double quotes: [fifty]{"entity": "amount", "value": "50.00"}',
        ) from exc
    if not isinstance(data, dict) or "entity" not in data:
        raise AnnotationError(
            f"annotation {blob!r} has no \"entity\" key",
            'write [fifty]{"entity": "amount", "value": "50.00"}',
        )
    unknown = set(data) - {"entity", "value", "role", "group"}
    if unknown:
        raise AnnotationError(
            f"unknown key(s) {sorted(unknown)} in annotation {blob!r}",
            'only "entity", "value", "role" and "group" are allowed',
        )
    value = data.get("value")
    return _checked_name(str(data["entity"])), None if value is None else str(value)


def _checked_name(name: str) -> str:
    if not _ENTITY_NAME.match(name):
        raise AnnotationError(
            f"invalid entity name {name!r}", "entity names are letters, digits and underscores"
        )
    return name


def _check_span(span: str, whole: str) -> None:
    if not span.strip():
        raise AnnotationError(f"empty annotated text in {whole!r}", "put the words inside [ ]")
    if span != span.strip():
        raise AnnotationError(
            f"annotated text {span!r} starts or ends with a space",
            "move the spaces outside the [ ] brackets",
        )


def _check_leftovers(text: str) -> None:
    if any(ch in text for ch in "[]"):
        raise AnnotationError(
            f"unbalanced or incomplete annotation in {text!r}",
            "every [text] must be followed by (entity) or {\"entity\": ...}; "
            "remove stray brackets",
        )
