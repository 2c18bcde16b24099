"""Account imports as jobs: queued by the API, run by the job scheduler, safe to run again."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from backend.api.app import create_app
from backend.container import Container
from backend.db.models import Account, ImportJob
from backend.imports_wiring import install_imports
from backend.services import apikeys
from backend.services.imports import jobs
from backend.services.imports.columns import COLUMN_NAMES, EXAMPLE_ROWS
from backend.settings import Settings
from bot.clock import SettableClock


@dataclass
class Api:
    client: httpx.AsyncClient
    container: Container
    auth: dict[str, str]

    async def queue(self, data: bytes, skip_invalid: bool = False) -> dict[str, object]:
        response = await self.client.post(
            "/api/accounts/imports", files={"file": ("accounts.csv", data)},
            params={"skip_invalid": str(skip_invalid).lower()}, headers=self.auth)
        assert response.status_code == 202, response.text
        body: dict[str, object] = response.json()
        return body

    async def job(self, job_id: object) -> dict[str, object]:
        response = await self.client.get(f"/api/accounts/imports/{job_id}", headers=self.auth)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    async def accounts(self) -> int:
        async with self.container.sessions() as session:
            return int(await session.scalar(select(func.count(Account.id))) or 0)


@pytest.fixture
async def api(settings: Settings, clock: SettableClock, tmp_path: Path) -> AsyncIterator[Api]:
    configured = settings.model_copy(update={"import_dir": tmp_path / "imports"})
    app = create_app(configured, clock=clock, migrate=False, extensions=(install_imports,))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Api(c, container, {"Authorization": f"Bearer {raw}"})


def _csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMN_NAMES))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


async def test_a_queued_import_runs_on_the_job_scheduler_not_in_the_request(api: Api) -> None:
    queued = await api.queue(_csv(list(EXAMPLE_ROWS)))
    assert queued["status"] == "queued" and await api.accounts() == 0
    assert "imports.run" in await api.container.scheduler.run_due()
    done = await api.job(queued["id"])
    assert done["status"] == "done" and done["attempts"] == 1
    assert done["report"] == {"total": 3, "created": 3, "updated": 0, "written": True,
                              "rejected_rows": 0, "error_count": 0, "errors": []}
    assert await api.accounts() == 3


async def test_invalid_rows_are_reported_and_nothing_is_written(api: Api) -> None:
    bad = {**EXAMPLE_ROWS[1], "external_ref": "X9", "due_date": "yesterday"}
    queued = await api.queue(_csv([EXAMPLE_ROWS[0], bad]))
    await api.container.scheduler.run_due()
    rejected = await api.job(queued["id"])
    assert rejected["status"] == "rejected"
    report = rejected["report"]
    assert isinstance(report, dict) and report["written"] is False
    assert report["rejected_rows"] == 1 and report["total"] == 2
    assert report["errors"] == [{"row": 3, "column": "due_date",
                                 "reason": report["errors"][0]["reason"]}]
    assert await api.accounts() == 0


async def test_a_file_that_is_not_utf8_is_rejected_with_the_reason(api: Api) -> None:
    queued = await api.queue(_csv(list(EXAMPLE_ROWS)) + b"\xff\xfe\xfa,Acme\n")
    await api.container.scheduler.run_due()
    failed = await api.job(queued["id"])
    assert failed["status"] == "rejected" and "not UTF-8" in str(failed["error"])
    assert await api.accounts() == 0


async def test_an_import_a_dead_worker_left_running_is_run_again(api: Api) -> None:
    queued = await api.queue(_csv(list(EXAMPLE_ROWS)))
    clock = api.container.clock
    assert isinstance(clock, SettableClock)
    async with api.container.sessions.begin() as session:
        job = await session.get(ImportJob, queued["id"])
        assert job is not None
        job.status, job.started_at, job.attempts = "running", clock.now(), 1
    assert await jobs.run_due(api.container.sessions, clock.now()) == []  # still alive
    clock.advance(jobs.STALE_AFTER + timedelta(minutes=1))
    assert await jobs.run_due(api.container.sessions, clock.now()) == [queued["id"]]
    again = await api.job(queued["id"])
    assert (again["status"], again["attempts"]) == ("done", 2)
    assert await api.accounts() == 3


async def test_two_workers_never_run_the_same_import(api: Api) -> None:
    queued = await api.queue(_csv(list(EXAMPLE_ROWS)))
    now = api.container.clock.now()
    ran = await asyncio.gather(*(jobs.run_one(api.container.sessions, int(str(queued["id"])), now)
                                 for _ in range(2)))
    assert sorted(ran) == [False, True]
    assert (await api.job(queued["id"]))["attempts"] == 1


async def test_an_unknown_import_job_is_404(api: Api) -> None:
    response = await api.client.get("/api/accounts/imports/999", headers=api.auth)
    assert response.status_code == 404
