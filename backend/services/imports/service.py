"""Importing an accounts CSV end to end: validate all, then write all (or the valid rows)."""

from __future__ import annotations

import csv
import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.services import audit
from backend.services.imports import changes
from backend.services.imports.columns import COLUMN_NAMES
from backend.services.imports.pipeline import write_while_validating
from backend.services.imports.reader import ParsedFile, validate_batches
from backend.services.imports.records import as_raw
from backend.services.imports.rows import RowError
from backend.services.imports.writer import AccountWriter


@dataclass
class ImportReport:
    """What an import did: rows read, created, updated, and every rejected row's reasons."""

    total: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False

    @property
    def rejected_rows(self) -> int:
        """How many distinct rows had at least one error."""
        return len({e.row for e in self.errors})


class _Rejected(Exception):
    """Rolls back the rows already written when the file turns out to be unacceptable."""


async def import_accounts(
    sessions: async_sessionmaker[AsyncSession],
    lines: Iterable[str],
    *,
    now: datetime,
    actor: str,
    source: str = "import",
    skip_invalid: bool = False,
    error_csv: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[ImportReport, ParsedFile]:
    """Validate every row; write nothing if any is invalid unless `skip_invalid`.

    Rows are written, in one transaction, while the rest of the file is still being
    validated; an invalid row (without `skip_invalid`) stops the writing and rolls back
    what was written, after every row has been checked and reported.
    """
    parsed = ParsedFile()
    batches = validate_batches(lines, parsed, now.date(), now=now)
    report = ImportReport()
    try:
        with _collector_paused():
            async with sessions.begin() as session:
                writer = AccountWriter(session, now, actor)
                # Rows the writer refuses keep it writing (the rollback undoes it), so every
                # one of them is found and reported, as validation reports every invalid row.
                await write_while_validating(
                    batches, writer, lambda: skip_invalid or not parsed.errors, progress
                )
                _add_refused(parsed, writer)
                if parsed.header_broken or parsed.cut_short or (parsed.errors and not skip_invalid):
                    raise _Rejected
                if error_csv and parsed.rejected_raw:
                    write_error_csv(error_csv, parsed)
                await _record(session, parsed, writer, now, actor)
                counts = writer.counts
                await changes.record_bulk(session, counts.changed, counts.contacts_added,
                                          changes.Writer(actor, source, now))
        report.created, report.updated = writer.counts.created, writer.counts.updated
        report.written = True
    except _Rejected:
        pass
    report.total, report.errors = parsed.total, list(parsed.errors)
    return report, parsed


def _add_refused(parsed: ParsedFile, writer: AccountWriter) -> None:
    """Report the rows the writer refused like the rows validation rejected, in row order."""
    refused = writer.counts.refused
    if not refused:
        return
    numbers = {e.row for e in refused}
    for row in parsed.rows:
        if row.row in numbers:
            reasons = [e for e in refused if e.row == row.row]
            parsed.rejected_raw.append((row.row, as_raw(row), reasons))
    parsed.rows = [r for r in parsed.rows if r.row not in numbers]
    parsed.errors = sorted([*parsed.errors, *refused], key=lambda e: e.row)
    parsed.rejected_raw.sort(key=lambda item: item[0])


async def _record(
    session: AsyncSession, parsed: ParsedFile, writer: AccountWriter, now: datetime, actor: str
) -> None:
    await audit.record(
        session,
        occurred_at=now,
        actor=actor,
        action="accounts.imported",
        subject_type="import",
        data={
            "rows": parsed.total,
            "created": writer.counts.created,
            "updated": writer.counts.updated,
            "rejected": len({e.row for e in parsed.errors}),
            "whatsapp_added": writer.counts.whatsapp_added,
            "contacts_added": writer.counts.contacts_added,
            "debtors_changed": len(writer.counts.changed),
        },
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the import, then restore it.

    Every validated row lives until the import ends, so the collector's full passes only
    re-scan them: about a tenth of an import's time. Cyclic garbage made meanwhile (here or
    in other tasks of the process) is collected once the import is over.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def write_error_csv(path: Path, parsed: ParsedFile) -> None:
    """Write the rejected rows as they were, with their row number and reasons."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=["row", *COLUMN_NAMES, "errors"], extrasaction="ignore"
        )
        writer.writeheader()
        for row_number, raw, errors in parsed.rejected_raw:
            reasons = "; ".join(f"{e.column}: {e.reason}" for e in errors)
            writer.writerow({"row": row_number, **raw, "errors": reasons})
