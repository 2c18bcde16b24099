"""Reading an accounts CSV: header checks, row validation, duplicates within the file."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from backend.services.imports.columns import COLUMN_NAMES, REQUIRED
from backend.services.imports.rows import AccountRow, RowError, validate_row, validate_values

# Rows validated between two turns of the event loop (about a millisecond of work).
BATCH = 100
KNOWN_COLUMNS = frozenset(COLUMN_NAMES)
FIELD_LIMIT_ERROR = "field larger than field limit"


class NotUtf8(UnicodeDecodeError):
    """A file that is not UTF-8, naming the line of its first undecodable byte."""

    def __init__(self, exc: UnicodeDecodeError, line: int) -> None:
        super().__init__(exc.encoding, exc.object, exc.start, exc.end, exc.reason)
        self.line = line

    def __str__(self) -> str:
        byte = self.object[self.start]
        return (f"line {self.line}: byte 0x{byte:02x} is not UTF-8 text; the file must be "
                "UTF-8 (save it as \"CSV UTF-8\")")


@dataclass
class ParsedFile:
    """The valid rows and every error, with the number of data rows read."""

    rows: list[AccountRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total: int = 0
    rejected_raw: list[tuple[int, dict[str, str], list[RowError]]] = field(default_factory=list)
    # True when the file stopped being readable CSV before its end: the rows after the broken
    # one were never read, so not even the valid rows may be written.
    cut_short: bool = False

    @property
    def header_broken(self) -> bool:
        """True when the header itself was rejected (no data row was read)."""
        return bool(self.errors) and self.total == 0


def read_accounts(
    lines: Iterable[str], today: date | None = None, *, now: datetime | None = None
) -> ParsedFile:
    """Validate a whole CSV (as lines of text); nothing is written here."""
    parsed = ParsedFile()
    for _ in validate_batches(lines, parsed, today, now=now):
        pass
    return parsed


def validate_batches(
    lines: Iterable[str],
    parsed: ParsedFile,
    today: date | None = None,
    size: int = 0,
    *,
    now: datetime | None = None,
) -> Iterator[list[AccountRow]]:
    """Validate the CSV into `parsed`, yielding the valid rows of every `size` data rows.

    A rejected header ends the file at once; `today` is the caller's clock date and `now`
    its time (an opt-in after it is refused); `size` defaults to BATCH.
    """
    record: list[str] = []
    reader = csv.reader(_kept(lines, record))
    try:
        yield from _validate(reader, record, parsed, today, size or BATCH, now)
    except UnicodeDecodeError as exc:
        # The decoder counts bytes in its chunk; a person looks for a line: the lines the
        # reader took, then the line breaks in the failing chunk before the bad byte.
        before = bytes(exc.object[: exc.start]).count(b"\n")
        raise NotUtf8(exc, reader.line_num + 1 + before) from exc


def _kept(lines: Iterable[str], record: list[str]) -> Iterator[str]:
    """The lines, each also kept in `record` (which the caller empties at every row)."""
    for line in lines:
        record.append(line)
        yield line


def _validate(
    reader: Iterator[list[str]], record: list[str], parsed: ParsedFile, today: date | None,
    size: int, now: datetime | None,
) -> Iterator[list[AccountRow]]:
    try:
        header = next(reader, None)
    except csv.Error as exc:
        parsed.errors.append(_unreadable(1, None, "".join(record), exc))
        return
    # Names are normalized once, so the rows are keyed by the names the check accepted.
    fieldnames = [_column_name(name) for name in header] if header is not None else None
    header_errors = _check_header(fieldnames)
    if header_errors or fieldnames is None:
        parsed.errors.extend(header_errors)
        return
    try:
        yield from _validate_rows(reader, record, fieldnames, parsed, today, size, now)
    except csv.Error as exc:
        # Invalid input like an invalid row, not a failure to retry: name the row, stop there.
        parsed.total += 1
        row = parsed.total + 1  # the header is row 1
        parsed.errors.append(_unreadable(row, fieldnames, "".join(record), exc))
        parsed.cut_short = True


def _validate_rows(
    reader: Iterator[list[str]], record: list[str], fieldnames: list[str], parsed: ParsedFile,
    today: date | None, size: int, now: datetime | None,
) -> Iterator[list[AccountRow]]:
    first_seen: dict[tuple[str, str], int] = {}
    width = len(fieldnames)
    batch: list[AccountRow] = []
    index = 1
    record.clear()
    for fields in reader:
        record.clear()
        if not fields:  # blank lines are not rows (as csv.DictReader skips them)
            continue
        index += 1
        parsed.total += 1
        if len(fields) == width:
            values = dict(zip(fieldnames, map(str.strip, fields), strict=True))
            result = validate_values(index, values, today, now=now)
        else:
            result = _validate_uneven(index, _as_dict(fieldnames, fields), today, now)
        if isinstance(result, AccountRow):
            result = _first_of_reference(result, first_seen)
        if isinstance(result, AccountRow):
            parsed.rows.append(result)
            batch.append(result)
        else:
            parsed.errors.extend(result)
            parsed.rejected_raw.append((index, _clean(_as_dict(fieldnames, fields)), result))
        if parsed.total % size == 0:
            yield batch
            batch = []
    yield batch


def _as_dict(fieldnames: list[str], fields: list[str]) -> dict[str | None, str | None]:
    """The row as `csv.DictReader` gives it: extra fields under None, missing ones None."""
    raw: dict[str | None, str | None] = dict(zip(fieldnames, fields, strict=False))
    if len(fields) > len(fieldnames):
        raw[None] = fields[len(fieldnames) :]  # type: ignore[assignment]
    elif len(fields) < len(fieldnames):
        for name in fieldnames[len(fields) :]:
            raw[name] = None
    return raw


def _validate_uneven(
    index: int, raw: dict[str | None, str | None], today: date | None, now: datetime | None
) -> AccountRow | list[RowError]:
    """A row with more or fewer fields than the header."""
    if None in raw:
        return [RowError(index, "*", "more fields than the header has columns")]
    return validate_row(index, raw, today, now=now)  # type: ignore[arg-type]


def _first_of_reference(
    row: AccountRow, first_seen: dict[tuple[str, str], int]
) -> AccountRow | list[RowError]:
    """The row, or why it repeats a reference seen earlier in the file."""
    key = (row.creditor.casefold(), row.external_ref)
    if key in first_seen:
        reason = f"duplicate reference {row.external_ref!r} (first at row {first_seen[key]})"
        return [RowError(row.row, "external_ref", reason)]
    first_seen[key] = row.row
    return row


def _column_name(name: str) -> str:
    """A header name as the columns spell it: case and surrounding spaces do not matter."""
    stripped = name.strip()
    lowered = stripped.lower()
    return lowered if lowered in KNOWN_COLUMNS else stripped


def _check_header(fieldnames: list[str] | None) -> list[RowError]:
    if not fieldnames:
        return [RowError(1, "*", "the file is empty or has no header row")]
    if KNOWN_COLUMNS.isdisjoint(fieldnames) and not all(map(str.isprintable, fieldnames)):
        return [RowError(1, "*", "not a CSV file of accounts: the first line holds control "
                                 "characters, not column names")]
    errors = [
        RowError(1, name, "required column is missing")
        for name in sorted(REQUIRED - set(fieldnames))
    ]
    errors += _named_twice(fieldnames)
    errors += [
        _unknown(position, name)
        for position, name in enumerate(fieldnames, start=1)
        if name not in KNOWN_COLUMNS
    ]
    return errors


def _named_twice(fieldnames: list[str]) -> list[RowError]:
    """A column named twice: a row would hold two values for it, and one would be lost."""
    positions: dict[str, list[int]] = {}
    for position, name in enumerate(fieldnames, start=1):
        if name in KNOWN_COLUMNS:
            positions.setdefault(name, []).append(position)
    return [
        RowError(1, name, f"named twice (columns {', '.join(map(str, where))}); "
                          "each column may appear once")
        for name, where in positions.items()
        if len(where) > 1
    ]


def _unknown(position: int, name: str) -> RowError:
    if not name.isprintable():  # echoing NULs and escapes would garble a terminal or a log
        return RowError(1, f"column {position}", "unknown column whose name holds control "
                                                 "characters")
    return RowError(1, name, f"unknown column (known: {', '.join(COLUMN_NAMES)})")


def _unreadable(
    row: int, fieldnames: list[str] | None, text: str, exc: csv.Error
) -> RowError:
    """Why the CSV reader stopped at `row`; for an over-long field, the column holding it."""
    if not str(exc).startswith(FIELD_LIMIT_ERROR):
        return RowError(row, "*", "not readable as CSV text (binary data, or a line break "
                                  "inside an unquoted field?)")
    limit = csv.field_size_limit()
    position = _overlong_field(text, limit)
    if fieldnames is not None and position < len(fieldnames):
        column = fieldnames[position]
    else:
        column = f"column {position + 1}"
    return RowError(row, column, f"a field longer than {limit} characters, more than any "
                                 "column holds (an unclosed quote?)")


def _overlong_field(text: str, limit: int) -> int:
    """The 0-based position of the first field of a CSV record longer than `limit`."""
    position, length, quoted = 0, 0, False
    for char in text:
        if char == '"':
            quoted = not quoted  # a doubled quote toggles twice: close enough to count
        elif char == "," and not quoted:
            position, length = position + 1, 0
        else:
            length += 1
            if length > limit:
                break
    return position


def _clean(raw: dict[str | None, str | None]) -> dict[str, str]:
    return {k: (v or "") for k, v in raw.items() if k is not None}

