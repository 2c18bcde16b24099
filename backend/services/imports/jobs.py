"""Account imports as jobs: store the upload, run it on a job worker, keep its report."""

from __future__ import annotations

import asyncio
import codecs
import csv
import logging
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.db.models import ImportJob
from backend.services.imports.reader import NotUtf8
from backend.services.imports.service import ImportReport, import_accounts
from bot.clock import Clock

log = logging.getLogger(__name__)
# A job "running" longer than this belongs to a worker that died: the import is one
# transaction, so nothing of it was written, and running it again is safe.
STALE_AFTER = timedelta(minutes=30)
MAX_ATTEMPTS = 3
REPORTED_ERRORS = 200


async def submit(session: AsyncSession, data: bytes, *, filename: str, directory: Path,
                 actor: str, skip_invalid: bool, now: datetime) -> ImportJob:
    """Keep the uploaded file and queue its import (the caller's transaction commits it)."""
    path = await asyncio.to_thread(_store, data, directory)
    job = ImportJob(filename=filename[:255], path=str(path), actor=actor,
                    skip_invalid=skip_invalid, status="queued", attempts=0, created_at=now)
    session.add(job)
    await session.flush()
    return job


async def run_due(sessions: async_sessionmaker[AsyncSession], now: datetime,
                  clock: Clock | None = None) -> list[int]:
    """Run every queued import, and every import a dead worker left running; their ids."""
    async with sessions() as session:
        ids = list((await session.scalars(
            select(ImportJob.id).where(_runnable(now)).order_by(ImportJob.id))).all())
    return [job_id for job_id in ids if await run_one(sessions, job_id, now, clock)]


async def run_one(sessions: async_sessionmaker[AsyncSession], job_id: int,
                  now: datetime, clock: Clock | None = None) -> bool:
    """Claim one import and run it to a final status; False when another worker has it.

    `now` is the tick's time (the job's start); `clock`, read again at the end, dates its finish.
    """
    job = await _claim(sessions, job_id, now)
    if job is None:
        return False
    status, report, error = await _outcome(sessions, job, now)
    finished = clock.now() if clock is not None else now
    await _finish(sessions, job_id, finished, status, report=report, error=error)
    return True


async def _outcome(sessions: async_sessionmaker[AsyncSession], job: ImportJob,
                   now: datetime) -> tuple[str, dict[str, Any] | None, str | None]:
    """The job's final status, with its report or its error."""
    try:
        report = await _import(sessions, job, now)
    # Invalid input, like an invalid row: running it again cannot help. (The reader reports a
    # csv.Error as a row's error; this is the backstop.)
    except (NotUtf8, csv.Error) as exc:
        return "rejected", None, f"{job.filename}: {exc}"
    except (OSError, UnicodeDecodeError) as exc:
        return "failed", None, _reason(exc)
    except Exception as exc:  # recorded for the operator; retried until MAX_ATTEMPTS
        log.exception("import job %s failed", job.id)
        final = job.attempts >= MAX_ATTEMPTS
        return ("failed" if final else "queued", None,
                f"{type(exc).__name__} (attempt {job.attempts})")
    return "done" if report.written else "rejected", _report(report), None


def _store(data: bytes, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}.csv"
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(path)  # a worker never sees half a file
    return path


def _runnable(now: datetime) -> Any:
    return or_(ImportJob.status == "queued",
               (ImportJob.status == "running") & (ImportJob.started_at < now - STALE_AFTER))


async def _claim(sessions: async_sessionmaker[AsyncSession], job_id: int,
                 now: datetime) -> ImportJob | None:
    async with sessions.begin() as session:
        claimed = await session.execute(
            update(ImportJob).where(ImportJob.id == job_id, _runnable(now))
            .values(status="running", started_at=now, attempts=ImportJob.attempts + 1)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return await session.get(ImportJob, job_id, populate_existing=True)


async def _import(sessions: async_sessionmaker[AsyncSession], job: ImportJob,
                  now: datetime) -> ImportReport:
    handle = await asyncio.to_thread(Path(job.path).open, "rb")
    with handle:
        lines = codecs.iterdecode(handle, "utf-8-sig")
        report, _ = await import_accounts(sessions, lines, now=now, actor=job.actor,
                                          source=f"import:{job.id}",
                                          skip_invalid=job.skip_invalid)
    return report


async def _finish(sessions: async_sessionmaker[AsyncSession], job_id: int,
                  finished: datetime, status: str, *, report: dict[str, Any] | None = None,
                  error: str | None = None) -> None:
    async with sessions.begin() as session:
        job = await session.get(ImportJob, job_id)
        assert job is not None
        job.status, job.report, job.error = status, report, error
        job.finished_at = finished if status != "queued" else None


def _report(report: ImportReport) -> dict[str, Any]:
    return {
        "total": report.total, "created": report.created, "updated": report.updated,
        "written": report.written, "rejected_rows": report.rejected_rows,
        "error_count": len(report.errors),  # all of them; `errors` lists the first ones
        "errors": [{"row": e.row, "column": e.column, "reason": e.reason}
                   for e in report.errors[:REPORTED_ERRORS]],
    }


def _reason(exc: OSError | UnicodeDecodeError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text: {exc}"
    return f"the uploaded file could not be read: {exc.strerror or exc}"
