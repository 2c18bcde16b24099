"""The response files: base sentences per locale, with per-portfolio wording overrides."""

from __future__ import annotations

import logging
import re
import string
from pathlib import Path

import yaml

LOCALES = ("en", "es")
ROOT = Path(__file__).parent
OVERRIDES = "overrides"
WORDING_NAME = re.compile(r"[a-z0-9_-]+")

log = logging.getLogger(__name__)


class CatalogError(ValueError):
    """A response file that cannot be used, naming the file and the key."""


def _read(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected `key: sentence` lines")
    for key, text in data.items():
        if not isinstance(text, str):
            raise CatalogError(f"{path}: {key}: the sentence must be a quoted string")
        try:
            list(string.Formatter().parse(text))
        except ValueError as exc:
            raise CatalogError(f"{path}: {key}: bad {{slot}} syntax ({exc})") from exc
    return {str(k): v for k, v in data.items()}


def wordings(root: Path = ROOT) -> list[str]:
    """The portfolio wordings there are: the folders under `overrides/` with a valid name."""
    folder = root / OVERRIDES
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and WORDING_NAME.fullmatch(p.name))


class Catalog:
    """Looks sentences up by key, locale and the portfolio's wording."""

    def __init__(self, root: Path = ROOT) -> None:
        self.root = root
        self.base = {locale: _read(root / f"{locale}.yml") for locale in LOCALES}
        self._overrides: dict[tuple[str, str], dict[str, str]] = {}

    def _override(self, wording: str, locale: str) -> dict[str, str]:
        key = (wording, locale)
        if key not in self._overrides:
            self._overrides[key] = self._read_override(wording, locale)
        return self._overrides[key]

    def _read_override(self, wording: str, locale: str) -> dict[str, str]:
        folder = (self.root / OVERRIDES).resolve()
        path = (folder / wording / f"{locale}.yml").resolve()
        # Policies are validated, but a wording must never read a file outside overrides/.
        if not path.is_relative_to(folder):
            log.warning("wording %r is outside %s: using the base sentences", wording, folder)
            return {}
        return _read(path) if path.exists() else {}

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
