"""Creditor-bound API keys: a key bound to one creditor reaches only that creditor's accounts,
their records and reports; another creditor's rows are missing to it (404), writes for another
creditor are refused (403), and an agency-wide key reaches everything as before."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from backend.api.app import create_app
from backend.channels_wiring import install_channels
from backend.cli.main import app as cli
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.engine import build_engine
from backend.db.migrate import alembic_config, upgrade
from backend.db.models import Account, AuditEvent, Conversation, Creditor, ImportJob, Payment
from backend.imports_wiring import install_imports
from backend.reports_wiring import install_reports
from backend.services import apikeys
from backend.settings import Settings
from backend.workflow_wiring import install_workflow
from bot.clock import SettableClock

ACME = {
    "external_ref": "ACME-1", "creditor": "Acme Bank", "portfolio": "Cards",
    "debtor_name": "Jane Roe", "phone": "+12125550123", "state": "NY", "currency": "USD",
    "balance": "300.00", "due_date": "2026-08-22",
}
BETA = {
    **ACME, "external_ref": "BETA-1", "creditor": "Beta Telco", "portfolio": "Mobile",
    "debtor_name": "John Poe", "phone": "+12125550124", "balance": "120.00",
}


@dataclass
class Agency:
    """The client, an agency-wide key, a key bound to Acme Bank, and both accounts."""

    container: Container
    client: httpx.AsyncClient
    agency: dict[str, str]
    acme: dict[str, str]
    acme_account: dict[str, object]
    beta_account: dict[str, object]


@pytest.fixture
async def agency(settings: Settings, clock: SettableClock) -> AsyncIterator[Agency]:
    app = create_app(settings, clock=clock, migrate=False, extensions=(
        install_channels, install_conversations, install_imports, install_reports,
        install_workflow))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            agency_wide = _bearer(await _key(container, None))
            made = [await client.post("/api/accounts", json=body, headers=agency_wide)
                    for body in (ACME, BETA)]
            assert [r.status_code for r in made] == [201, 201], [r.text for r in made]
            acme = _bearer(await _key(container, "acme bank"))
            yield Agency(container, client, agency_wide, acme, made[0].json(), made[1].json())


async def _key(container: Container, creditor: str | None) -> str:
    async with container.sessions.begin() as session:
        bound = await apikeys.find_creditor(session, creditor) if creditor else None
        _, raw = await apikeys.create_key(session, "test", container.clock.now(), None, bound)
    return raw


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


async def test_a_bound_key_lists_only_its_creditors_accounts(agency: Agency) -> None:
    bound = (await agency.client.get("/api/accounts", headers=agency.acme)).json()
    assert [a["external_ref"] for a in bound["items"]] == ["ACME-1"] and bound["total"] == 1
    beta_portfolio = {"portfolio_id": agency.beta_account["portfolio_id"]}
    other = await agency.client.get("/api/accounts", headers=agency.acme, params=beta_portfolio)
    assert other.json()["items"] == [] and other.json()["total"] == 0
    every = (await agency.client.get("/api/accounts", headers=agency.agency)).json()
    assert sorted(a["external_ref"] for a in every["items"]) == ["ACME-1", "BETA-1"]


async def test_another_creditors_account_is_missing_and_left_unchanged(agency: Agency) -> None:
    beta, client = agency.beta_account["id"], agency.client
    missing = await client.get(f"/api/accounts/{2**40}", headers=agency.agency)
    seen = await client.get(f"/api/accounts/{beta}", headers=agency.acme)
    # The same answer as for an account that does not exist: its existence is not confirmed.
    assert (seen.status_code, seen.json()) == (404, {"detail": f"no account {beta}"})
    assert missing.json() == {"detail": f"no account {2**40}"}
    paid = await client.post(f"/api/accounts/{beta}/payments", headers=agency.acme,
                             json={"amount": "20.00", "reference": "R-1"})
    reminded = await client.post(f"/api/accounts/{beta}/remind", headers=agency.acme)
    portfolio = agency.beta_account["portfolio_id"]
    policy = await client.get(f"/api/portfolios/{portfolio}/policy", headers=agency.acme)
    assert [paid.status_code, reminded.status_code, policy.status_code] == [404, 404, 404]
    async with agency.container.sessions() as session:
        assert await session.scalar(select(func.count(Payment.id))) == 0
        account = await session.get(Account, beta)
        assert account is not None and account.current_balance == Decimal("120.00")
    own = await client.get(f"/api/accounts/{agency.acme_account['id']}", headers=agency.acme)
    assert own.status_code == 200 and own.json()["external_ref"] == "ACME-1"


async def test_another_creditors_conversation_is_missing(agency: Agency) -> None:
    now = agency.container.clock.now()
    async with agency.container.sessions.begin() as session:
        opened = [Conversation(channel="sms", address=str(account["id"]), started_at=now,
                               last_message_at=now, account_id=account["id"])
                  for account in (agency.acme_account, agency.beta_account)]
        session.add_all(opened)
        await session.flush()
        acme, beta = (c.id for c in opened)
    seen = await agency.client.get(f"/api/conversations/{beta}", headers=agency.acme)
    assert (seen.status_code, seen.json()) == (404, {"detail": f"no conversation {beta}"})
    own = await agency.client.get(f"/api/conversations/{acme}", headers=agency.acme)
    every = await agency.client.get(f"/api/conversations/{beta}", headers=agency.agency)
    assert [own.status_code, every.status_code] == [200, 200]


async def test_a_bound_key_cannot_write_for_another_creditor(agency: Agency) -> None:
    other = {**BETA, "external_ref": "BETA-2"}
    refused = await agency.client.post("/api/accounts", json=other, headers=agency.acme)
    assert refused.status_code == 403
    assert refused.json()["detail"][0]["field"] == "creditor"
    upload = _csv([{**ACME, "external_ref": "ACME-9"}, {**BETA, "external_ref": "BETA-9"}])
    imported = await agency.client.post("/api/accounts/import", headers=agency.acme,
                                        files={"file": ("accounts.csv", upload)},
                                        params={"skip_invalid": "true"})
    queued = await agency.client.post("/api/accounts/imports", headers=agency.acme,
                                      files={"file": ("accounts.csv", upload)})
    assert [imported.status_code, queued.status_code] == [403, 403]
    assert "rows 3 name another creditor" in imported.json()["detail"][0]["reason"]
    async with agency.container.sessions() as session:
        refs = set(await session.scalars(select(Account.external_ref)))
        assert refs == {"ACME-1", "BETA-1"}
        assert await session.scalar(select(func.count(ImportJob.id))) == 0
    own = await agency.client.post("/api/accounts", headers=agency.acme,
                                   json={**ACME, "creditor": "ACME BANK", "external_ref": "A-2"})
    assert own.status_code == 201, own.text


async def test_import_jobs_of_another_creditor_are_missing(agency: Agency) -> None:
    upload = _csv([{**BETA, "external_ref": "BETA-7"}])
    queued = await agency.client.post("/api/accounts/imports", headers=agency.agency,
                                      files={"file": ("accounts.csv", upload)})
    assert queued.status_code == 202, queued.text
    job = queued.json()["id"]
    seen = await agency.client.get(f"/api/accounts/imports/{job}", headers=agency.acme)
    assert (seen.status_code, seen.json()) == (404, {"detail": f"no import job {job}"})
    own = await agency.client.post("/api/accounts/imports", headers=agency.acme,
                                   files={"file": ("accounts.csv", _csv([ACME]))})
    mine = await agency.client.get(f"/api/accounts/imports/{own.json()['id']}",
                                   headers=agency.acme)
    assert mine.status_code == 200


async def test_reports_are_kept_to_the_keys_creditor(agency: Agency) -> None:
    params = {"format": "csv", "table": "by_creditor"}
    bound = await agency.client.get("/api/reports/recovery", headers=agency.acme, params=params)
    every = await agency.client.get("/api/reports/recovery", headers=agency.agency, params=params)
    assert _labels(bound) == ["Acme Bank"]
    assert _labels(every) == ["Acme Bank", "Beta Telco"]
    beta_creditor = await _creditor_id(agency.container, "BETA-1")
    asked = await agency.client.get("/api/reports/outcomes", headers=agency.acme,
                                    params={"creditor_id": beta_creditor})
    assert asked.status_code == 403 and asked.json()["detail"][0]["field"] == "creditor_id"
    portfolio = await agency.client.get(
        "/api/reports/recovery", headers=agency.acme,
        params={"portfolio_id": agency.beta_account["portfolio_id"]})
    assert portfolio.status_code == 422  # as unknown as a portfolio that does not exist
    json_body = (await agency.client.get("/api/reports/recovery", headers=agency.acme)).json()
    assert json_body["filter"]["creditor_id"] == await _creditor_id(agency.container, "ACME-1")


async def test_a_bound_key_may_not_change_agency_wide_strategies(agency: Agency) -> None:
    source = "name: s\nsteps: []\n"
    refused = await agency.client.post("/api/strategies", headers=agency.acme,
                                       json={"source": source})
    assert refused.status_code == 403
    assert "strategies are agency-wide" in refused.json()["detail"]
    listed = await agency.client.get("/api/strategies", headers=agency.acme)
    assert listed.status_code == 200


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(ACME))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _labels(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["label"] for row in csv.DictReader(io.StringIO(response.text))]


async def _creditor_id(container: Container, external_ref: str) -> int:
    async with container.sessions() as session:
        found = await session.scalar(
            select(Account.creditor_id).where(Account.external_ref == external_ref))
    assert found is not None
    return int(found)


def test_the_cli_binds_a_key_to_a_creditor_and_lists_it(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    acme_id = asyncio.run(_add_creditor(database_url, "Acme Bank"))
    runner = CliRunner()
    unknown = runner.invoke(cli, ["apikey", "create", "--name", "x", "--creditor", "Nope Inc"])
    assert unknown.exit_code == 1
    assert "not created: no creditor named 'Nope Inc'" in unknown.stderr
    made = runner.invoke(cli, ["apikey", "create", "--name", "acme", "--creditor", "acme bank"])
    by_id = runner.invoke(cli, ["apikey", "create", "--name", "acme2",
                                "--creditor", str(acme_id)])
    wide = runner.invoke(cli, ["apikey", "create", "--name", "wide"])
    assert [made.exit_code, by_id.exit_code, wide.exit_code] == [0, 0, 0], made.output
    assert f"creditor: Acme Bank (id {acme_id})" in made.stderr.splitlines()
    assert wide.stderr.strip() == "scopes: all"  # an agency-wide key prints as before
    listed = runner.invoke(cli, ["apikey", "list"]).stdout.splitlines()
    assert listed[0].split()[-1] == "CREDITOR"
    rows = {line.split()[1]: line for line in listed[1:]}
    assert set(rows) == {"acme", "acme2", "wide"}  # the unknown creditor made no key
    assert rows["acme"].endswith(f"Acme Bank (id {acme_id})")
    assert rows["acme2"].endswith(f"Acme Bank (id {acme_id})")
    assert rows["wide"].endswith(" all")
    assert asyncio.run(_audited_creditors(database_url)) == {
        "acme": acme_id, "acme2": acme_id, "wide": None}


async def _add_creditor(url: str, name: str) -> int:
    engine = build_engine(url)
    try:
        async with AsyncSession(engine) as session, session.begin():
            creditor = Creditor(name=name, created_at=datetime(2026, 11, 1, tzinfo=UTC))
            session.add(creditor)
            await session.flush()
            return creditor.id
    finally:
        await engine.dispose()


async def _audited_creditors(url: str) -> dict[str, int | None]:
    engine = build_engine(url)
    try:
        async with AsyncSession(engine) as session:
            events = await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "apikey.created"))
            return {e.data["name"]: e.data["creditor_id"] for e in events}
    finally:
        await engine.dispose()


async def _columns(url: str) -> list[str]:
    engine = build_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns("api_key")])
    finally:
        await engine.dispose()


async def _execute(url: str, statement: str = "", downgrade_to: str | None = None) -> None:
    engine = build_engine(url)
    try:
        async with engine.begin() as conn:
            if downgrade_to:
                await conn.run_sync(
                    lambda sync: command.downgrade(alembic_config(sync), downgrade_to))
            if statement:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def test_0017_leaves_existing_keys_agency_wide_and_downgrades(database_url: str) -> None:
    await _execute(database_url, downgrade_to="0016")
    assert "creditor_id" not in await _columns(database_url)
    await _execute(
        database_url,
        "INSERT INTO api_key (id, name, prefix, key_hash, created_at, scopes) "
        "VALUES (1, 'old', 'pk_old', 'h', '2026-11-01 00:00:00+00', 'read')")
    await upgrade(database_url)
    engine = build_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(
                text("SELECT name, scopes, key_hash, creditor_id FROM api_key"))).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [("old", "read", "h", None)]  # unbound: as before
    await _execute(database_url, downgrade_to="0016")
    assert "creditor_id" not in await _columns(database_url)
    await upgrade(database_url)  # and back again, for the next test's template
    assert "creditor_id" in await _columns(database_url)
