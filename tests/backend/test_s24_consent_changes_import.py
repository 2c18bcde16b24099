"""A CSV import audits the debtors whose consent date or identity factors it changes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sqlalchemy import select

from backend.container import Container
from backend.db.models import AuditEvent
from backend.services import audit
from backend.services.imports import jobs
from backend.services.imports.columns import COLUMN_NAMES, EXAMPLE_ROWS
from backend.services.imports.service import import_accounts

FIRST = {**EXAMPLE_ROWS[0], "timezone": "America/Chicago", "country": "US"}


def _csv(*rows: dict[str, str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMN_NAMES))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


async def _import(container: Container, *rows: dict[str, str]) -> None:
    lines = _csv(*rows).splitlines(keepends=True)
    report, _ = await import_accounts(
        container.sessions, lines, now=container.clock.now(), actor="cli"
    )
    assert report.written, report.errors


async def _events(container: Container, action: str) -> list[AuditEvent]:
    async with container.sessions() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return list(rows)


async def _verified(container: Container) -> bool:
    async with container.sessions() as session:
        return (await audit.verify(session)).ok


async def test_a_reimport_changing_a_date_of_birth_records_it(container: Container) -> None:
    await _import(container, FIRST)
    await _import(container, {**FIRST, "date_of_birth": "1985-04-21"})
    [changed] = await _events(container, "debtor.changed")
    assert (changed.actor, changed.subject_type) == ("cli", "debtor")
    assert changed.data["fields"] == ["date_of_birth"]
    assert changed.data["source"] == "import"
    assert "1985" not in json.dumps(changed.data)  # that it changed, never what to
    assert await _verified(container)


async def test_a_reimport_changing_nothing_records_no_change(container: Container) -> None:
    await _import(container, FIRST)
    await _import(container, {**FIRST, "date_of_birth": "", "debtor_name": "Maria L. Lopez"})
    assert await _events(container, "debtor.changed") == []
    [first, second] = await _events(container, "accounts.imported")
    assert (first.data["contacts_added"], second.data["contacts_added"]) == (2, 0)
    assert len(await _events(container, "import.contacts_added")) == 1  # the first import's


async def test_a_queued_import_names_its_job_as_the_source(
    container: Container, tmp_path: Path
) -> None:
    await _import(container, FIRST)
    moved = {**FIRST, "phone": "(713) 555-0199", "written_consent_at": "2026-06-07T11:30:00Z"}
    now = container.clock.now()
    async with container.sessions.begin() as session:
        job = await jobs.submit(
            session,
            _csv(moved).encode(),
            filename="a.csv",
            directory=tmp_path,
            actor="apikey:abc",
            skip_invalid=False,
            now=now,
        )
    assert await jobs.run_one(container.sessions, job.id, now)
    [changed] = await _events(container, "debtor.changed")
    assert changed.data["source"] == f"import:{job.id}"
    assert changed.data["fields"] == ["written_consent_at"]
    assert changed.data["written_consent_at"] == {"old": None, "new": "2026-06-07T11:30:00+00:00"}
    added = (await _events(container, "import.contacts_added"))[-1]
    assert added.data == {"count": 1, "consent": True, "source": f"import:{job.id}"}
    assert await _verified(container)
