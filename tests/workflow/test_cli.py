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


def test_strategy_mistakes_are_one_line_errors(cli: typer.Typer, db_env: str,
                                               tmp_path: Path) -> None:
    text = DEFAULT_STRATEGY_PATH.read_text(encoding="utf-8")
    assert "{link}" in text
    placeholder = tmp_path / "amount.yml"
    placeholder.write_text(text.replace("Details: {link}", "Details: {link} {amount}", 1),
                           encoding="utf-8")
    refused = runner.invoke(cli, ["strategy", "load", str(placeholder)])
    assert refused.exit_code == 1 and "uses {amount}; templates only know {link}" in refused.output
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"\x00\xff")
    refused = runner.invoke(cli, ["strategy", "load", str(binary)])
    assert refused.exit_code == 1 and "not UTF-8 text" in refused.output
    assert refused.exception is None or isinstance(refused.exception, SystemExit)
    assert runner.invoke(cli, ["strategy", "load", str(DEFAULT_STRATEGY_PATH)]).exit_code == 0
    missing = runner.invoke(cli, ["strategy", "activate", "default", "--version", "9"])
    assert missing.exit_code == 1 and "has no version 9" in missing.output
    assert isinstance(missing.exception, SystemExit)
