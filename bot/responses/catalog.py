"""The response files: base sentences per locale, with per-portfolio wording overrides."""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Callable
from pathlib import Path

import yaml

LOCALES = ("en", "es")
ROOT = Path(__file__).parent
OVERRIDES = "overrides"
WORDING_NAME = re.compile(r"[a-z0-9_-]+")

log = logging.getLogger(__name__)


class CatalogError(ValueError):
    """A response file that cannot be used, naming the file and the key."""


# What else an override's sentence must respect, given the shipped one: a problem or None.
SentenceCheck = Callable[[str, str], str | None]


def _read(path: Path, name: str | None = None) -> dict[str, str]:
    name = name or str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CatalogError(f"{name}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{name}: expected `key: sentence` lines")
    for key, text in data.items():
        if not isinstance(text, str):
            raise CatalogError(f"{name}: {key}: the sentence must be a quoted string")
        try:
            list(string.Formatter().parse(text))
        except ValueError as exc:
            raise CatalogError(f"{name}: {key}: bad {{slot}} syntax ({exc})") from exc
    return {str(k): v for k, v in data.items()}


def slots(text: str) -> frozenset[str]:
    """The slot names a sentence uses: `{amount}`, `{offer.kind}` is `offer`."""
    return frozenset(name.split(".")[0].split("[")[0]
                     for _, name, _, _ in string.Formatter().parse(text) if name)


def override_name(wording: str, locale: str) -> str:
    """How problems name an override file (relative, not the server's layout)."""
    return f"{OVERRIDES}/{wording}/{locale}.yml"


def wording_problems(wording: str, check: SentenceCheck | None = None, root: Path = ROOT
                     ) -> list[str]:
    """What makes a wording's files unusable, one `file: key: problem` line each: YAML that
    does not parse, a key the shipped files lack, a slot the shipped sentence does not fill,
    and whatever `check` finds."""
    problems = []
    for locale in LOCALES:
        path = root / OVERRIDES / wording / f"{locale}.yml"
        if not path.exists():
            continue
        name = override_name(wording, locale)
        try:
            sentences = _read(path, name)
        except CatalogError as exc:
            problems.append(str(exc))
            continue
        shipped = _read(root / f"{locale}.yml")
        for key, text in sentences.items():
            problem = _sentence_problem(text, shipped.get(key), check)
            if problem is not None:
                problems.append(f"{name}: {key}: {problem}")
    return problems


def _sentence_problem(text: str, shipped: str | None, check: SentenceCheck | None
                      ) -> str | None:
    if shipped is None:
        return "no such key in the shipped sentences (a typo would never be said)"
    unknown = slots(text) - slots(shipped)
    if unknown:
        known = ", ".join(f"{{{s}}}" for s in sorted(slots(shipped))) or "none"
        return (f"unknown slot {', '.join(f'{{{s}}}' for s in sorted(unknown))}; "
                f"the shipped sentence fills: {known}")
    return check(text, shipped) if check is not None else None


def wordings(root: Path = ROOT) -> list[str]:
    """The portfolio wordings there are: the folders under `overrides/` with a valid name."""
    folder = root / OVERRIDES
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and WORDING_NAME.fullmatch(p.name))


def _stamp(path: Path) -> tuple[int, int] | None:
    """The file's mtime and size (None: no file); the size too, as two edits can share an
    mtime tick."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


class Catalog:
    """Looks sentences up by key, locale and the portfolio's wording."""

    def __init__(self, root: Path = ROOT) -> None:
        self.root = root
        self.base = {locale: _read(root / f"{locale}.yml") for locale in LOCALES}
        # (wording, locale) -> the file's stamp when read, and its sentences.
        self._overrides: dict[tuple[str, str], tuple[tuple[int, int] | None, dict[str, str]]] = {}

    def _override(self, wording: str, locale: str) -> dict[str, str]:
        path = self._override_path(wording, locale)
        if path is None:
            return {}
        # One stat per lookup, so an edited file is said without a restart.
        stamp = _stamp(path)
        cached = self._overrides.get((wording, locale))
        if cached is None or cached[0] != stamp:
            sentences = _read(path, override_name(wording, locale)) if stamp is not None else {}
            cached = self._overrides[wording, locale] = (stamp, sentences)
        return cached[1]

    def _override_path(self, wording: str, locale: str) -> Path | None:
        folder = (self.root / OVERRIDES).resolve()
        path = (folder / wording / f"{locale}.yml").resolve()
        # Policies are validated, but a wording must never read a file outside overrides/.
        if not path.is_relative_to(folder):
            log.warning("wording %r is outside %s: using the base sentences", wording, folder)
            return None
        return path

    def source(self, key: str, locale: str, wording: str | None = None) -> str:
        """The file `text` takes the sentence from (for errors that name it)."""
        locale = locale if locale in LOCALES else "en"
        if wording and key in self._override(wording, locale):
            return override_name(wording, locale)
        return f"{locale}.yml"

    def text(self, key: str, locale: str, wording: str | None = None) -> str:
        """The sentence for `key`; a portfolio's wording wins over the base file."""
        locale = locale if locale in LOCALES else "en"
        if wording:
            override = self._override(wording, locale).get(key)
            if override is not None:
                return override
        try:
            return self.base[locale][key]
        except KeyError:
            raise CatalogError(f"{locale}.yml has no sentence for {key!r}") from None

    def has(self, key: str, locale: str = "en") -> bool:
        """True when the base file of `locale` has `key`."""
        return key in self.base.get(locale, {})
