"""Review fixes: decimals as written, an import job's real finish time, upload errors named."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.api.app import create_app
from backend.container import Container
from backend.db.models import Account, ImportJob
from backend.imports_wiring import install_imports
from backend.services import apikeys
from backend.services.imports import jobs
from backend.services.imports.columns import COLUMN_NAMES, EXAMPLE_ROWS
from backend.services.imports.service import import_accounts
from backend.settings import Settings
from bot.clock import SettableClock


def _lines(rows: list[dict[str, str]]) -> list[str]:
    return _bytes(rows).decode().splitlines(keepends=True)


def _bytes(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMN_NAMES))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _row(ref: str, currency: str, balance: str) -> dict[str, str]:
    return {**EXAMPLE_ROWS[0], "external_ref": ref, "currency": currency, "balance": balance,
            "original_balance": ""}


@pytest.mark.parametrize(("currency", "balance", "written"), [
    ("USD", "1.250", 3), ("JPY", "1.000", 3), ("USD", "12.5000", 4), ("USD", "0.000", 3),
    ("JPY", "12.50", 2),
])
async def test_decimals_are_counted_as_written_not_as_valued(
    container: Container, currency: str, balance: str, written: int
) -> None:
    report, _ = await import_accounts(container.sessions, _lines([_row("D1", currency, balance)]),
                                      now=container.clock.now(), actor="t")
    assert not report.written
    assert [(e.row, e.column) for e in report.errors] == [(2, "balance")]
    reason = report.errors[0].reason
    assert reason.startswith(f"{balance} has more decimals than the currency allows")
    # Three decimals is how much of Europe writes thousands: say so, and how to write it.
    assert ("thousands separator" in reason) == (written == 3)
    if written == 3:
        assert balance.replace(".", ",") in reason


async def test_decimals_the_currency_has_are_still_accepted(container: Container) -> None:
    rows = [_row("U1", "USD", "12.50"), _row("U2", "USD", "12.5"), _row("U3", "USD", "12"),
            _row("U4", "USD", "1,250.00"), _row("J1", "JPY", "1,000"), _row("J2", "JPY", "1000"),
            # Two written decimals are never a thousands group: as exports write every amount.
            _row("J3", "JPY", "1250.00")]
    report, _ = await import_accounts(container.sessions, _lines(rows),
                                      now=container.clock.now(), actor="t")
    assert report.errors == [] and report.created == 7
    async with container.sessions() as session:
        balances = dict((await session.execute(
            select(Account.external_ref, Account.current_balance))).all())
    assert balances == {"U1": Decimal("12.50"), "U2": Decimal("12.50"), "U3": Decimal("12.00"),
                        "U4": Decimal("1250.00"), "J1": Decimal("1000"), "J2": Decimal("1000"),
                        "J3": Decimal("1250")}


async def test_an_import_job_finishes_when_its_import_ends_by_the_container_clock(
    settings: Settings, clock: SettableClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = settings.model_copy(update={"import_dir": tmp_path / "imports"})
    app = create_app(configured, clock=clock, migrate=False, extensions=(install_imports,))
    real_import = jobs._import

    async def slow_import(*args: Any) -> Any:
        clock.advance(timedelta(seconds=12))  # a large file: the import takes 12 s
        return await real_import(*args)

    monkeypatch.setattr(jobs, "_import", slow_import)
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            queued = await c.post("/api/accounts/imports",
                                  files={"file": ("big.csv", _bytes(list(EXAMPLE_ROWS)))},
                                  headers={"Authorization": f"Bearer {raw}"})
            assert queued.status_code == 202, queued.text
            tick = clock.now()
            assert "imports.run" in await container.scheduler.run_due()
        async with container.sessions() as session:
            job = await session.get(ImportJob, queued.json()["id"])
    assert job is not None and job.status == "done"
    assert _utc(job.started_at) == tick
    assert _utc(job.finished_at) == tick + timedelta(seconds=12)


def _utc(when: datetime | None) -> datetime:
    assert when is not None
    # SQLite hands back naive datetimes; the column stores UTC.
    return when if when.tzinfo else when.replace(tzinfo=UTC)


async def test_a_refused_upload_names_its_file(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    bad = _bytes([{**EXAMPLE_ROWS[0], "due_date": "yesterday"}])
    refused = await client.post("/api/accounts/import", files={"file": ("bad.csv", bad)},
                                headers=auth)
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert detail["file"] == "bad.csv"
    # The errors keep their shape.
    assert [set(e) for e in detail["errors"]] == [{"row", "column", "reason"}]


async def test_an_upload_written_with_skipped_rows_names_its_file(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    rows = [EXAMPLE_ROWS[0], {**EXAMPLE_ROWS[1], "due_date": "yesterday"}]
    done = await client.post("/api/accounts/import", files={"file": ("some.csv", _bytes(rows))},
                             params={"skip_invalid": "true"}, headers=auth)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["file"] == "some.csv"
    assert (body["created"], body["rejected_rows"], len(body["errors"])) == (1, 1, 1)
