"""The accounts API counts days past due on the debtor's local day, as the bot does; an import
job knows the creditor it was queued for, and a bound key's access to it follows that creditor
(migration 0018 fills it for jobs queued by bound keys before)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.app import create_app
from backend.container import Container
from backend.db.engine import build_engine
from backend.db.migrate import alembic_config, upgrade
from backend.db.models import ApiKey, Creditor, ImportJob
from backend.imports_wiring import install_imports
from backend.services import apikeys
from backend.settings import Settings
from bot.clock import SettableClock

# 02:00 UTC on the 25th is still the 24th in Los Angeles (18:00) but the 25th in London.
LATE_EVENING_IN_LA = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
DUE = "2026-10-25"  # 31 days before the 25th, 30 before the 24th
LA = {
    "external_ref": "LA-1",
    "creditor": "Acme Bank",
    "portfolio": "Cards",
    "debtor_name": "Jane Roe",
    "phone": "+12135550123",
    "state": "CA",
    "currency": "USD",
    "balance": "300.00",
    "due_date": DUE,
    "timezone": "America/Los_Angeles",
}
LONDON = {
    **LA,
    "external_ref": "LDN-1",
    "debtor_name": "John Poe",
    "phone": "+12125550124",
    "state": "NY",
    "timezone": "Europe/London",
}


@dataclass
class Api:
    """The client, an agency-wide key, a key bound to Acme Bank, and the accounts made."""

    container: Container
    client: httpx.AsyncClient
    agency: dict[str, str]
    acme: dict[str, str]
    ids: dict[str, int]


@pytest.fixture
async def api(settings: Settings, clock: SettableClock) -> AsyncIterator[Api]:
    app = create_app(settings, clock=clock, migrate=False, extensions=(install_imports,))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            agency = _bearer(await _key(container, None))
            made = [
                await client.post("/api/accounts", json=body, headers=agency)
                for body in (LA, LONDON)
            ]
            assert [r.status_code for r in made] == [201, 201], [r.text for r in made]
            ids = {r.json()["external_ref"]: r.json()["id"] for r in made}
            acme = _bearer(await _key(container, "acme bank"))
            yield Api(container, client, agency, acme, ids)


async def _key(container: Container, creditor: str | None) -> str:
    async with container.sessions.begin() as session:
        bound = await apikeys.find_creditor(session, creditor) if creditor else None
        _, raw = await apikeys.create_key(session, "test", container.clock.now(), None, bound)
    return raw


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


async def test_the_account_detail_counts_days_on_the_debtors_local_day(
    api: Api, clock: SettableClock
) -> None:
    clock.set(LATE_EVENING_IN_LA)
    la = (await api.client.get(f"/api/accounts/{api.ids['LA-1']}", headers=api.agency)).json()
    ldn = (await api.client.get(f"/api/accounts/{api.ids['LDN-1']}", headers=api.agency)).json()
    assert (la["days_past_due"], la["dpd_bucket"]) == (30, "1-30")
    assert (ldn["days_past_due"], ldn["dpd_bucket"]) == (31, "31-60")


async def test_the_listing_and_its_bucket_filter_count_on_the_debtors_local_day(
    api: Api, clock: SettableClock
) -> None:
    clock.set(LATE_EVENING_IN_LA)
    listed = (await api.client.get("/api/accounts", headers=api.agency)).json()
    shown = {a["external_ref"]: (a["days_past_due"], a["dpd_bucket"]) for a in listed["items"]}
    assert shown == {"LA-1": (30, "1-30"), "LDN-1": (31, "31-60")}
    for bucket, refs in (("1-30", ["LA-1"]), ("31-60", ["LDN-1"])):
        page = (
            await api.client.get("/api/accounts", headers=api.agency, params={"dpd_bucket": bucket})
        ).json()
        assert ([a["external_ref"] for a in page["items"]], page["total"]) == (refs, 1), bucket


async def test_an_import_job_records_the_creditor_it_was_queued_for(api: Api) -> None:
    bound = await api.client.post(
        "/api/accounts/imports", headers=api.acme, files={"file": ("accounts.csv", _csv([LA]))}
    )
    wide = await api.client.post(
        "/api/accounts/imports", headers=api.agency, files={"file": ("accounts.csv", _csv([LA]))}
    )
    assert [bound.status_code, wide.status_code] == [202, 202], bound.text
    acme_id = await _acme_id(api.container)
    assert (bound.json()["creditor_id"], wide.json()["creditor_id"]) == (acme_id, None)
    async with api.container.sessions() as session:
        stored = {j.id: j.creditor_id for j in await session.scalars(select(ImportJob))}
    assert stored == {bound.json()["id"]: acme_id, wide.json()["id"]: None}
    seen = await api.client.get(f"/api/accounts/imports/{bound.json()['id']}", headers=api.acme)
    assert seen.status_code == 200 and seen.json()["creditor_id"] == acme_id
    hidden = await api.client.get(f"/api/accounts/imports/{wide.json()['id']}", headers=api.acme)
    assert hidden.status_code == 404
    every = await api.client.get(f"/api/accounts/imports/{wide.json()['id']}", headers=api.agency)
    assert every.status_code == 200  # an agency-wide key sees every job, as before


async def test_a_bound_key_reaches_an_import_job_by_its_creditor_not_its_actor(api: Api) -> None:
    acme_id = await _acme_id(api.container)
    async with api.container.sessions.begin() as session:
        prefix = await session.scalar(select(ApiKey.prefix).where(ApiKey.creditor_id == acme_id))
        for_acme = _job(session, actor="cli:admin", creditor_id=acme_id)
        by_acme_key_for_nobody = _job(session, actor=f"apikey:{prefix}", creditor_id=None)
        await session.flush()
        ids = (for_acme.id, by_acme_key_for_nobody.id)
    seen = [
        (await api.client.get(f"/api/accounts/imports/{i}", headers=api.acme)).status_code
        for i in ids
    ]
    assert seen == [200, 404]


def _job(session: AsyncSession, *, actor: str, creditor_id: int | None) -> ImportJob:
    job = ImportJob(
        filename="a.csv",
        path="/nowhere/a.csv",
        actor=actor,
        skip_invalid=False,
        status="queued",
        attempts=0,
        created_at=datetime(2026, 11, 1, tzinfo=UTC),
        creditor_id=creditor_id,
    )
    session.add(job)
    return job


async def _acme_id(container: Container) -> int:
    async with container.sessions() as session:
        found = await session.scalar(select(Creditor.id).where(Creditor.name == "Acme Bank"))
    assert found is not None
    return int(found)


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(LA))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


async def _run(url: str, *statements: str, downgrade_to: str | None = None) -> list[tuple]:
    """Run `statements` (after a downgrade) and return the last one's rows, if it has any."""
    engine = build_engine(url)
    rows: list[tuple] = []
    try:
        async with engine.begin() as conn:
            if downgrade_to:
                await conn.run_sync(
                    lambda sync: command.downgrade(alembic_config(sync), downgrade_to)
                )
            for statement in statements:
                result = await conn.execute(text(statement))
                rows = [tuple(r) for r in result.all()] if result.returns_rows else []
    finally:
        await engine.dispose()
    return rows


async def test_0018_fills_the_creditor_of_jobs_queued_by_bound_keys(database_url: str) -> None:
    when = "'2026-11-01 00:00:00+00'"
    await _run(
        database_url,
        f"INSERT INTO creditor (id, name, created_at) VALUES (7, 'Acme Bank', {when})",
        *(
            f"INSERT INTO api_key (id, name, prefix, key_hash, created_at, creditor_id) "
            f"VALUES ({i}, 'k', '{prefix}', 'h{i}', {when}, {creditor})"
            for i, prefix, creditor in (
                (1, "pk_acme", "7"),
                (2, "pk_wide", "NULL"),
                (3, "pk_both", "7"),
                (4, "pk_both", "NULL"),
            )
        ),
        *(
            f"INSERT INTO import_job (id, filename, path, actor, skip_invalid, status, attempts,"
            f" created_at) VALUES ({i}, 'a.csv', '/a.csv', '{actor}', false, 'done', 1, {when})"
            for i, actor in (
                (1, "apikey:pk_acme"),
                (2, "apikey:pk_wide"),
                (3, "cli:admin"),
                (4, "apikey:pk_both"),
            )
        ),
        downgrade_to="0017",
    )
    await upgrade(database_url)
    filled = await _run(database_url, "SELECT id, creditor_id FROM import_job ORDER BY id")
    # A prefix shared by an agency-wide key is ambiguous: that job stays agency-wide.
    assert filled == [(1, 7), (2, None), (3, None), (4, None)]
    await _run(database_url, downgrade_to="0017")
    await upgrade(database_url)  # and back again
