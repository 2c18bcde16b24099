"""Importing an accounts CSV end to end: validate all, then write all (or the valid rows)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.services import audit
from backend.services.imports.columns import COLUMN_NAMES
from backend.services.imports.reader import ParsedFile, read_accounts
from backend.services.imports.rows import RowError
from backend.services.imports.writer import upsert_accounts


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


async def import_accounts(
    sessions: async_sessionmaker[AsyncSession],
    lines: Iterable[str],
    *,
    now: datetime,
    actor: str,
    skip_invalid: bool = False,
    error_csv: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[ImportReport, ParsedFile]:
    """Validate every row; write nothing if any is invalid unless `skip_invalid`."""
    parsed = read_accounts(lines)
    report = ImportReport(total=parsed.total, errors=list(parsed.errors))
    header_broken = bool(parsed.errors) and parsed.total == 0
    if header_broken or (parsed.errors and not skip_invalid):
        return report, parsed
    if error_csv and parsed.rejected_raw:
        write_error_csv(error_csv, parsed)
    async with sessions.begin() as session:
        counts = await upsert_accounts(session, parsed.rows, now, progress)
        await audit.record(
            session,
            occurred_at=now,
            actor=actor,
            action="accounts.imported",
            subject_type="import",
            data={
                "rows": parsed.total,
                "created": counts.created,
                "updated": counts.updated,
                "rejected": report.rejected_rows,
            },
        )
    report.created, report.updated, report.written = counts.created, counts.updated, True
    return report, parsed


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
