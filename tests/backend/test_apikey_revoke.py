"""`parley apikey list` and `parley apikey revoke`: a revoked key gets 401 on its next request."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from backend.api.app import create_app
from backend.cli.main import app as cli
from backend.db.engine import build_engine, build_sessionmaker
from backend.db.models import AuditEvent
from backend.settings import Settings

runner = CliRunner()


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return url


def _cli(*args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout  # `apikey create` names the key's scopes on stderr


def _status(url: str, key: str) -> int:
    """What GET /api/accounts answers `key` on a freshly started app over the same database."""

    async def call() -> int:
        app = create_app(Settings(_env_file=None, database_url=url), migrate=False)  # type: ignore[call-arg]
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.get(
                    "/api/accounts", headers={"Authorization": f"Bearer {key}"}
                )
                return response.status_code

    return asyncio.run(call())


def _audit_actions(url: str) -> list[tuple[str, dict[str, str]]]:
    async def read() -> list[tuple[str, dict[str, str]]]:
        engine = build_engine(url)
        async with build_sessionmaker(engine)() as session:
            events = await session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            found = [(e.action, e.data) for e in events]
        await engine.dispose()
        return found

    return asyncio.run(read())


def test_keys_are_listed_and_a_revoked_one_is_refused_at_once(db_env: str) -> None:
    assert _cli("apikey", "list").startswith("no API keys")
    crm = _cli("apikey", "create", "--name", "crm").strip()
    erp = _cli("apikey", "create", "--name", "erp").strip()
    assert _status(db_env, crm) == 200 and _status(db_env, erp) == 200

    listed = _cli("apikey", "list").splitlines()
    assert listed[0].split() == ["PREFIX", "NAME", "SCOPES", "CREATED", "LAST", "USED", "REVOKED",
                                 "CREDITOR"]
    rows = {line.split()[1]: line for line in listed[1:]}
    assert set(rows) == {"crm", "erp"}
    assert rows["crm"].startswith(crm[:10]) and rows["crm"].split()[-2:] == ["-", "all"]
    assert "never" not in rows["crm"]  # it was used just now
    assert crm not in "\n".join(listed) and crm[10:20] not in "\n".join(listed)

    revoked = _cli("apikey", "revoke", crm[:10])
    assert f"revoked {crm[:10]} (crm)" in revoked
    assert _status(db_env, crm) == 401
    assert _status(db_env, erp) == 200

    after = {line.split()[1]: line for line in _cli("apikey", "list").splitlines()[1:]}
    assert after["crm"].split()[-2:] == ["UTC", "all"] and after["erp"].split()[-2:] == ["-", "all"]
    assert "was revoked before" in _cli("apikey", "revoke", crm[:10])
    assert _audit_actions(db_env)[-1] == ("apikey.revoked", {"name": "crm", "prefix": crm[:10],
                                                            "creditor_id": None})
    assert [a for a, _ in _audit_actions(db_env)].count("apikey.revoked") == 1
    assert "audit chain ok: 3 events" in _cli("audit", "verify")


def test_an_unknown_prefix_revokes_nothing_and_exits_1(db_env: str) -> None:
    key = _cli("apikey", "create").strip()
    result = runner.invoke(cli, ["apikey", "revoke", "pk_nothing"])
    assert result.exit_code == 1
    assert "not revoked: no API key with prefix 'pk_nothing'" in result.output
    assert _status(db_env, key) == 200
    assert "revoke" in _cli("apikey", "--help") and "list" in _cli("apikey", "--help")
