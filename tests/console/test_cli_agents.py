"""`parley agents create` (mounted by the lead as `parley agents`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli.agents import app
from backend.cli.runtime import run
from backend.console import users
from backend.db.engine import build_engine, build_sessionmaker

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return url


def test_the_first_admin_is_created_and_can_log_in(db_url: str) -> None:
    result = runner.invoke(app, ["create", "--email", "Admin@Example.com", "--name", "Ada",
                                 "--role", "admin", "--password", "a-long-enough-password"])
    assert result.exit_code == 0, result.output
    assert "created admin" in result.output

    async def check() -> bool:
        engine = build_engine(db_url)
        try:
            async with build_sessionmaker(engine).begin() as session:
                from datetime import UTC, datetime

                login = await users.authenticate(session, "admin@example.com",
                                                 "a-long-enough-password", datetime.now(UTC))
                return login.ok and login.agent is not None and login.agent.role == "admin"
        finally:
            await engine.dispose()

    assert run(check)


def test_the_password_is_prompted_when_omitted(db_url: str) -> None:
    result = runner.invoke(app, ["create", "--email", "a@example.com", "--name", "A"],
                           input="a-long-enough-password\na-long-enough-password\n")
    assert result.exit_code == 0, result.output


def test_duplicates_and_short_passwords_are_refused(db_url: str) -> None:
    args = ["create", "--email", "a@example.com", "--name", "A", "--password"]
    assert runner.invoke(app, [*args, "a-long-enough-password"]).exit_code == 0
    again = runner.invoke(app, [*args, "a-long-enough-password"])
    short = runner.invoke(app, ["create", "--email", "b@example.com", "--name", "B",
                                "--password", "short"])
    assert again.exit_code == 1 and "already exists" in again.output
    assert short.exit_code == 1 and "at least 12" in short.output
