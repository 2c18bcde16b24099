"""`parley strategy` as an operator runs it: load, simulate over the demo portfolio, activate."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from backend.cli.main import app as parley
from backend.workflow.strategy import DEFAULT_STRATEGY_PATH

runner = CliRunner()


@pytest.fixture
def cli() -> typer.Typer:
    """The `parley` command as installed."""
    return parley


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return url


def test_load_simulate_activate(cli: typer.Typer, db_env: str, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["demo", "--accounts", "40"]).exit_code == 0
    loaded = runner.invoke(cli, ["strategy", "load", str(DEFAULT_STRATEGY_PATH)])
    assert loaded.exit_code == 0, loaded.output
    assert "strategy default (id 1) v1 (not active)" in loaded.output
    simulated = runner.invoke(cli, ["strategy", "simulate", "--days", "3"])
    assert simulated.exit_code == 0, simulated.output
    assert simulated.output.strip().splitlines()[-1].startswith("default v1 over 3 day(s):")
    activated = runner.invoke(cli, ["strategy", "activate", "default"])
    assert "strategy default active at v1" in activated.output
    bad = tmp_path / "bad.yml"
    bad.write_text("name: bad\nsegments: []\n")
    refused = runner.invoke(cli, ["strategy", "load", str(bad)])
    assert refused.exit_code == 1 and "segments" in refused.output
    assert runner.invoke(cli, ["strategy", "simulate", "--strategy", "nope"]).exit_code == 1
