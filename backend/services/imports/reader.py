"""Reading an accounts CSV: header checks, row validation, duplicates within the file."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field

from backend.services.imports.columns import COLUMN_NAMES, REQUIRED
from backend.services.imports.rows import AccountRow, RowError, validate_row


@dataclass
class ParsedFile:
    """The valid rows and every error, with the number of data rows read."""

    rows: list[AccountRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total: int = 0
    rejected_raw: list[tuple[int, dict[str, str], list[RowError]]] = field(default_factory=list)


def read_accounts(lines: Iterable[str]) -> ParsedFile:
    """Validate a whole CSV (as lines of text); nothing is written here."""
    reader = csv.DictReader(lines)
    parsed = ParsedFile()
    header_errors = _check_header(reader.fieldnames)
    if header_errors:
        parsed.errors.extend(header_errors)
        return parsed
    first_seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(reader, start=2):
        parsed.total += 1
        result = _validate(index, raw, first_seen)
        if isinstance(result, AccountRow):
            parsed.rows.append(result)
        else:
            parsed.errors.extend(result)
            parsed.rejected_raw.append((index, _clean(raw), result))
    return parsed


def _validate(
    index: int, raw: dict[str, str | None], first_seen: dict[tuple[str, str], int]
) -> AccountRow | list[RowError]:
    if None in raw:
        return [RowError(index, "*", "more fields than the header has columns")]
    result = validate_row(index, raw)
    if not isinstance(result, AccountRow):
        return result
    key = (result.creditor.casefold(), result.external_ref)
    if key in first_seen:
        reason = f"duplicate reference {result.external_ref!r} (first at row {first_seen[key]})"
        return [RowError(index, "external_ref", reason)]
    first_seen[key] = index
    return result


def _check_header(fieldnames: list[str] | None) -> list[RowError]:
    if not fieldnames:
        return [RowError(1, "*", "the file is empty or has no header row")]
    names = [n.strip() for n in fieldnames]
    errors = [
        RowError(1, name, "required column is missing") for name in sorted(REQUIRED - set(names))
    ]
    errors += [
        RowError(1, name, f"unknown column (known: {', '.join(COLUMN_NAMES)})")
        for name in names
        if name not in COLUMN_NAMES
    ]
    return errors


def _clean(raw: dict[str, str | None]) -> dict[str, str]:
    return {k: (v or "") for k, v in raw.items() if k is not None}
