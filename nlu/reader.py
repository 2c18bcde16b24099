"""Strict reader for Rasa 3.x NLU YAML: every problem is collected with file, line and fix."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from nlu.annotations import AnnotationError, parse_annotated
from nlu.dataset import Example, Problem, TrainingData

SUPPORTED_VERSION = "3.1"
_TOP_KEYS = {"version", "nlu"}
_ITEM_KINDS = ("intent", "synonym", "regex", "lookup")
_ITEM_KEYS = {"examples", "metadata"}
_STR_TAG = "tag:yaml.org,2002:str"


def read_training_data(data_dir: Path) -> tuple[TrainingData, list[Problem]]:
    """Read every `*.yml`/`*.yaml` under `data_dir` (sorted) into one TrainingData."""
    data = TrainingData()
    problems: list[Problem] = []
    files = sorted([*data_dir.rglob("*.yml"), *data_dir.rglob("*.yaml")])
    if not files:
        problems.append(Problem(str(data_dir), 0, "no training data files found",
                                f"add {data_dir}/<intent>.yml files"))
    for path in files:
        problems.extend(read_file(path, data))
    return data, problems


def read_file(path: Path, data: TrainingData) -> list[Problem]:
    """Read one file into `data`; return its problems."""
    reader = _FileReader(str(path), data)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", -1) + 1
        reader.report(line, f"malformed YAML: {getattr(exc, 'problem', exc)}",
                      "check indentation and quote values containing ':' or '#'")
        return reader.problems
    except UnicodeDecodeError:
        reader.report(0, "file is not UTF-8", "save the file as UTF-8")
        return reader.problems
    reader.read_root(root)
    return reader.problems


class _FileReader:
    """Walks one composed YAML document, keeping line numbers."""

    def __init__(self, file: str, data: TrainingData) -> None:
        self.file = file
        self.data = data
        self.problems: list[Problem] = []

    def report(self, line: int, message: str, fix: str) -> None:
        self.problems.append(Problem(self.file, line, message, fix))

    def read_root(self, root: Node | None) -> None:
        if root is None:
            self.report(1, "file is empty", f'start with version: "{SUPPORTED_VERSION}" and nlu:')
            return
        if not isinstance(root, MappingNode):
            self.report(_line(root), "top level must be a mapping",
                        f'start with version: "{SUPPORTED_VERSION}" and nlu:')
            return
        keys = self._mapping(root, allowed=_TOP_KEYS, where="top level")
        self._check_version(keys.get("version"), root)
        nlu = keys.get("nlu")
        if nlu is None:
            self.report(_line(root), "missing 'nlu' key", "add nlu: with a list of intents")
        elif not isinstance(nlu, SequenceNode):
            self.report(_line(nlu), "'nlu' must be a list", "write each item as '- intent: ...'")
        else:
            for item in nlu.value:
                self._read_item(item)

    def _check_version(self, node: Node | None, root: Node) -> None:
        if node is None:
            self.report(_line(root), "missing 'version' key",
                        f'add version: "{SUPPORTED_VERSION}" at the top')
        elif not isinstance(node, ScalarNode) or node.value != SUPPORTED_VERSION or (
                node.tag != _STR_TAG):
            self.report(_line(node), f"unsupported version {_text(node)!r}",
                        f'write version: "{SUPPORTED_VERSION}" (quoted)')

    def _mapping(self, node: MappingNode, allowed: set[str], where: str) -> dict[str, Node]:
        seen: dict[str, Node] = {}
        for key_node, value in node.value:
            key = _text(key_node)
            if key in seen:
                self.report(_line(key_node), f"duplicate key {key!r} in {where}",
                            "keep one and merge the examples")
            elif key not in allowed:
                self.report(_line(key_node), f"unknown key {key!r} in {where}",
                            f"allowed keys: {', '.join(sorted(allowed))}")
            seen[key] = value
        return seen

    def _read_item(self, item: Node) -> None:
        if not isinstance(item, MappingNode):
            self.report(_line(item), "each nlu item must be a mapping",
                        "write '- intent: name' followed by 'examples: |'")
            return
        kinds = [k for k, _ in item.value if _text(k) in _ITEM_KINDS]
        if len(kinds) != 1:
            self.report(_line(item), "an nlu item needs exactly one of intent/synonym/regex/lookup",
                        "split it into separate '- intent: ...' items")
            return
        kind = _text(kinds[0])
        keys = self._mapping(item, allowed={kind, *_ITEM_KEYS}, where=f"{kind} item")
        name = _text(keys[kind]).strip()
        if not name:
            self.report(_line(kinds[0]), f"empty {kind} name", f"write {kind}: <name>")
            return
        examples = keys.get("examples")
        if examples is None:
            self.report(_line(item), f"{kind} {name!r} has no examples", "add examples: |")
            return
        lines = list(self._example_lines(examples))
        getattr(self, f"_add_{kind}")(name, lines)

    def _example_lines(self, node: Node) -> Iterator[tuple[int, str]]:
        if isinstance(node, SequenceNode):
            yield from self._example_sequence(node)
            return
        if not isinstance(node, ScalarNode):
            self.report(_line(node), "examples must be a block of '- ' lines",
                        "write examples: | and one '- example' per line")
            return
        first = _line(node) + (1 if node.style in ("|", ">") else 0)
        for offset, raw in enumerate(str(node.value).splitlines()):
            stripped = raw.strip()
            if not stripped:
                continue
            if not stripped.startswith("- ") or not stripped[2:].strip():
                self.report(first + offset, f"example line {stripped!r} does not start with '- '",
                            "write each example as '- text' on its own line")
                continue
            yield first + offset, stripped[2:].strip()

    def _example_sequence(self, node: SequenceNode) -> Iterator[tuple[int, str]]:
        for child in node.value:
            if isinstance(child, MappingNode):
                keys = self._mapping(child, allowed={"text", "metadata"}, where="example")
                text = keys.get("text")
                if text is not None:
                    yield _line(text), _text(text).strip()
            elif isinstance(child, ScalarNode):
                yield _line(child), str(child.value).strip()

    def _add_intent(self, name: str, lines: list[tuple[int, str]]) -> None:
        for line, raw in lines:
            try:
                parsed = parse_annotated(raw)
            except AnnotationError as exc:
                self.report(line, f"broken annotation in intent {name!r}: {exc}", exc.fix)
                continue
            self.data.examples.append(
                Example(parsed.text, name, parsed.annotations, self.file, line)
            )

    def _add_synonym(self, name: str, lines: list[tuple[int, str]]) -> None:
        for line, text in lines:
            previous = self.data.synonyms.get(text.lower())
            if previous is not None and previous != name:
                self.report(line, f"{text!r} is a synonym of both {previous!r} and {name!r}",
                            "keep it under one synonym")
            self.data.synonyms[text.lower()] = name

    def _add_regex(self, name: str, lines: list[tuple[int, str]]) -> None:
        for line, pattern in lines:
            try:
                re.compile(pattern)
            except re.error as exc:
                self.report(line, f"invalid regex {pattern!r} in {name!r}: {exc}",
                            "fix the pattern (escape special characters with \\)")
                continue
            self.data.regexes.setdefault(name, []).append(pattern)

    def _add_lookup(self, name: str, lines: list[tuple[int, str]]) -> None:
        self.data.lookups.setdefault(name, []).extend(text for _, text in lines)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _text(node: Node) -> str:
    return str(node.value) if isinstance(node, ScalarNode) else ""
