"""API key scopes: each /api route needs one (read, write, payments, admin); a key without it
gets 403 naming it, and a key stored without scopes (as before scopes existed) may do all."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from fastapi import APIRouter
from fastapi.routing import APIRoute
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from backend.api import deps
from backend.api.app import create_app
from backend.channels_wiring import install_channels
from backend.cli.main import app as cli
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.engine import build_engine
from backend.db.migrate import alembic_config, upgrade
from backend.services import apikeys
from backend.settings import Settings
from backend.wiring import default_extensions
from bot.clock import SettableClock

ACCOUNT = {
    "external_ref": "SCOPE-1",
    "creditor": "Acme Bank",
    "portfolio": "Cards",
    "debtor_name": "Jane Roe",
    "phone": "+12125550123",
    "state": "NY",
    "currency": "USD",
    "balance": "300.00",
    "due_date": "2026-08-22",
}
# The scope each route the brief names needs; the walk below checks every other one has one.
EXPECTED = {
    ("GET", "/api/accounts"): "read",
    ("GET", "/api/accounts/{account_id}"): "read",
    ("POST", "/model/parse"): "read",
    ("POST", "/api/accounts"): "write",
    ("POST", "/api/accounts/import"): "write",
    ("POST", "/api/accounts/imports"): "write",
    ("POST", "/api/accounts/{account_id}/remind"): "write",
    ("POST", "/api/accounts/{account_id}/payments"): "payments",
    ("PUT", "/api/portfolios/{portfolio_id}/policy"): "admin",
    ("POST", "/api/strategies"): "admin",
    ("POST", "/api/strategies/{strategy_id}/activate"): "admin",
    ("POST", "/api/strategies/{strategy_id}/simulate"): "read",  # a rolled-back dry run
}
KEY_DEPENDENCIES = {deps.require_api_key, deps.require_api_key_or_token}

Served = tuple[Container, httpx.AsyncClient, Callable[..., Any]]


@pytest.fixture
async def served(settings: Settings, clock: SettableClock) -> AsyncIterator[Served]:
    """The container, a client with the account, payment and policy routes, and a key maker."""
    app = create_app(
        settings, clock=clock, migrate=False, extensions=(install_channels, install_conversations)
    )
    async with app.router.lifespan_context(app):
        container: Container = app.state.container

        async def key(*scopes: str) -> dict[str, str]:
            async with container.sessions.begin() as session:
                _, raw = await apikeys.create_key(
                    session, "test", clock.now(), list(scopes) if scopes else None
                )
            return {"Authorization": f"Bearer {raw}"}

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield container, client, key


async def _account(client: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, Any]:
    created = await client.post("/api/accounts", json=ACCOUNT, headers=auth)
    assert created.status_code == 201, created.text
    return dict(created.json())


async def test_a_read_key_reads_but_changes_nothing(served: Served) -> None:
    _, client, key = served
    everything, read = await key(), await key("read")
    account = await _account(client, everything)
    assert (await client.get("/api/accounts", headers=read)).status_code == 200
    assert (await client.get(f"/api/accounts/{account['id']}", headers=read)).status_code == 200

    upsert = await client.post("/api/accounts", json={**ACCOUNT, "balance": "1.00"}, headers=read)
    assert (upsert.status_code, upsert.json()) == (
        403,
        {"detail": "this API key lacks the 'write' scope"},
    )
    payment = await client.post(
        f"/api/accounts/{account['id']}/payments",
        json={"amount": "10.00", "reference": "R1"},
        headers=read,
    )
    assert (payment.status_code, payment.json()) == (
        403,
        {"detail": "this API key lacks the 'payments' scope"},
    )
    after = (await client.get(f"/api/accounts/{account['id']}", headers=read)).json()
    assert str(after["current_balance"]) == "300.00" and after["payments"] == []


async def test_a_payments_key_posts_a_payment_but_cannot_replace_a_policy(
    served: Served,
) -> None:
    _, client, key = served
    everything, payments = await key(), await key("payments")
    account = await _account(client, everything)
    posted = await client.post(
        f"/api/accounts/{account['id']}/payments",
        json={"amount": "100.00", "reference": "INV-1"},
        headers=payments,
    )
    assert posted.status_code == 201, posted.text

    url = f"/api/portfolios/{account['portfolio_id']}/policy"
    before = (await client.get(url, headers=everything)).json()
    replaced = await client.put(
        url, json={**before["policy"], "wording": "example"}, headers=payments
    )
    assert (replaced.status_code, replaced.json()) == (
        403,
        {"detail": "this API key lacks the 'admin' scope"},
    )
    assert (await client.get(url, headers=everything)).json() == before
    refused_read = await client.get("/api/accounts", headers=payments)
    assert refused_read.json() == {"detail": "this API key lacks the 'read' scope"}


async def test_a_key_stored_without_scopes_does_everything(
    served: Served, clock: SettableClock
) -> None:
    container, client, key = served
    everything = await key()
    async with container.sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM api_key WHERE scopes IS NULL")) == 1
    account = await _account(client, everything)
    assert (await client.get("/api/accounts", headers=everything)).status_code == 200
    posted = await client.post(
        f"/api/accounts/{account['id']}/payments",
        json={"amount": "50.00", "reference": "P1"},
        headers=everything,
    )
    assert posted.status_code == 201, posted.text
    url = f"/api/portfolios/{account['portfolio_id']}/policy"
    before = (await client.get(url, headers=everything)).json()
    replaced = await client.put(
        url, json={**before["policy"], "wording": "example"}, headers=everything
    )
    assert replaced.status_code == 200, replaced.text


async def test_an_unknown_or_empty_scope_creates_no_key(container: Container) -> None:
    async with container.sessions.begin() as session:
        with pytest.raises(apikeys.InvalidScope, match="unknown scope 'pay': choose from read"):
            await apikeys.create_key(session, "x", container.clock.now(), ["read", "pay"])
        with pytest.raises(apikeys.InvalidScope, match="no scope"):
            await apikeys.create_key(session, "x", container.clock.now(), [])
        assert await apikeys.list_keys(session) == []
        row, _ = await apikeys.create_key(session, "x", container.clock.now(), ["Admin", "read"])
        assert row.scopes == "read,admin" and apikeys.scopes_of(row) == ("read", "admin")


def _api_routes(routes: Sequence[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)  # an included router, kept as one
        if inner is not None:
            yield from _api_routes(inner.routes)


def _needs_a_key(route: APIRoute) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call in KEY_DEPENDENCIES:
            return True
        pending.extend(dependency.dependencies)
    return False


async def test_every_api_route_needs_a_key_and_maps_to_a_scope(
    settings: Settings, clock: SettableClock, trained_model_dir: Path
) -> None:
    configured = settings.model_copy(update={"nlu_model_dir": trained_model_dir})
    app = create_app(configured, clock=clock, migrate=False, extensions=default_extensions())
    async with app.router.lifespan_context(app):
        found = {
            (method, route.path): (_needs_a_key(route), deps.required_scope(method, route.path))
            for route in _api_routes(app.routes)
            for method in route.methods
        }
    keyed = {route for route, (needs, _) in found.items() if needs}
    api = {route for route in found if route[1].startswith("/api/")}
    assert len(api) >= 15 and ("POST", "/model/parse") in keyed
    assert api - keyed == set(), "every /api route must depend on an API key"
    unscoped = {route for route in keyed if found[route][1] not in apikeys.SCOPES}
    assert unscoped == set(), "every keyed route must map to a scope in deps.required_scope"
    assert {route: found[route][1] for route in EXPECTED} == EXPECTED
    assert all(found[route][1] == "read" for route in keyed if route[0] == "GET")


async def test_a_keyed_route_with_no_scope_decided_is_refused(
    settings: Settings, clock: SettableClock
) -> None:
    router = APIRouter()

    @router.get("/elsewhere")
    async def elsewhere(_: deps.ApiClient) -> dict[str, str]:
        return {"ok": "yes"}

    app = create_app(settings, clock=clock, migrate=False)
    app.include_router(router)
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            refused = await client.get("/elsewhere", headers={"Authorization": f"Bearer {raw}"})
    assert (refused.status_code, refused.json()) == (
        403,
        {"detail": "no API key scope covers this route"},
    )


def test_the_cli_creates_a_scoped_key_and_lists_scopes(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    scoped = runner.invoke(
        cli, ["apikey", "create", "--name", "billing", "--scope", "read", "--scope", "payments"]
    )
    assert scoped.exit_code == 0, scoped.output
    assert scoped.stdout.strip().startswith("pk_") and "\n" not in scoped.stdout.strip()
    assert scoped.stderr.strip() == "scopes: read,payments"
    full = runner.invoke(cli, ["apikey", "create", "--name", "crm"])
    assert full.exit_code == 0 and full.stderr.strip() == "scopes: all"

    bad = runner.invoke(cli, ["apikey", "create", "--name", "typo", "--scope", "payment"])
    assert bad.exit_code == 1
    assert "not created: unknown scope 'payment': choose from read, write, payments, admin" in (
        bad.stderr
    )

    listed = runner.invoke(cli, ["apikey", "list"]).stdout.splitlines()
    assert listed[0].split() == [
        "PREFIX", "NAME", "SCOPES", "CREATED", "LAST", "USED", "REVOKED", "CREDITOR"
    ]
    rows = {line.split()[1]: line.split()[2] for line in listed[1:]}
    assert rows == {"billing": "read,payments", "crm": "all"}  # the typo made no key
    assert "create" in runner.invoke(cli, ["apikey", "create", "--help"]).stdout


async def _columns(url: str) -> list[str]:
    engine = build_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns("api_key")]
            )
    finally:
        await engine.dispose()


async def _execute(url: str, statement: str = "", downgrade_to: str | None = None) -> None:
    engine = build_engine(url)
    try:
        async with engine.begin() as conn:
            if downgrade_to:
                await conn.run_sync(
                    lambda sync: command.downgrade(alembic_config(sync), downgrade_to)
                )
            if statement:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def test_0013_adds_scopes_as_null_and_downgrades(database_url: str) -> None:
    await _execute(database_url, downgrade_to="0012")
    assert "scopes" not in await _columns(database_url)
    await _execute(
        database_url,
        "INSERT INTO api_key (id, name, prefix, key_hash, created_at) "
        "VALUES (1, 'old', 'pk_old', 'h', '2026-11-01 00:00:00+00')",
    )
    await upgrade(database_url)
    assert "scopes" in await _columns(database_url)
    engine = build_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT name, scopes FROM api_key"))).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [("old", None)]  # an old key keeps every scope
    await _execute(database_url, downgrade_to="0012")
    assert "scopes" not in await _columns(database_url)
    await upgrade(database_url)  # and back again, for the next test's template
    assert "scopes" in await _columns(database_url)


def test_the_rule_covers_routes_yet_to_come() -> None:
    assert set(deps.EXCEPTIONAL_SCOPES.values()) <= set(apikeys.SCOPES)
    assert deps.required_scope("GET", "/health") is None
    assert deps.required_scope("DELETE", "/api/strategies/{strategy_id}") == "admin"
    assert deps.required_scope("DELETE", "/api/conversations/{conversation_id}") == "write"
