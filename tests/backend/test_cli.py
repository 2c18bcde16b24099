"""The `parley` command line, run as an operator would (against a SQLite file)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from backend.cli.main import app
from backend.cli.runtime import run
from backend.db.engine import build_engine, build_sessionmaker
from backend.db.models import AuditEvent
from backend.services.imports.columns import COLUMN_NAMES

runner = CliRunner()


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return url


def test_every_command_explains_itself() -> None:
    for args in (["--help"], ["serve", "--help"], ["worker", "--help"], ["db", "upgrade", "--help"],
                 ["demo", "--help"], ["accounts", "import", "--help"],
                 ["accounts", "template", "--help"], ["apikey", "create", "--help"],
                 ["audit", "verify", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output


def test_template_then_import_then_reimport(db_env: str, tmp_path: Path) -> None:
    template = tmp_path / "accounts.csv"
    assert runner.invoke(app, ["accounts", "template", str(template)]).exit_code == 0
    first = runner.invoke(app, ["accounts", "import", str(template)])
    assert first.exit_code == 0, first.output
    assert "3 created, 0 updated" in first.output
    again = runner.invoke(app, ["accounts", "import", str(template)])
    assert "0 created, 3 updated" in again.output


def test_an_invalid_file_names_row_and_column_and_exits_1(db_env: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMN_NAMES))
        writer.writeheader()
        writer.writerow({"external_ref": "Z1", "creditor": "C", "portfolio": "P",
                         "debtor_name": "N", "currency": "USD", "balance": "-1",
                         "due_date": "2026-01-01"})
    result = runner.invoke(app, ["accounts", "import", str(path)])
    assert result.exit_code == 1
    assert f"{path}: row 2, column balance: -1 is negative" in result.output
    assert "nothing written" in result.output


def test_skip_invalid_writes_an_error_csv(db_env: str, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    runner.invoke(app, ["accounts", "template", str(path)])
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("310.45", "lots")
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["accounts", "import", str(path), "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output and "1 rejected" in result.output
    assert "lots" in (tmp_path / "mixed.errors.csv").read_text()


def test_apikey_is_printed_once_and_demo_seeds_once(db_env: str) -> None:
    key = runner.invoke(app, ["apikey", "create", "--name", "crm"])
    assert key.exit_code == 0 and key.output.strip().startswith("pk_")
    seeded = runner.invoke(app, ["demo", "--if-empty", "--accounts", "40"])
    assert "demo portfolio: 40 accounts" in seeded.output
    # The demo debtor's (fake) identity is printed with the portal link, to pass the check.
    assert re.search(r"/p/\S+\n  \(the bot verifies identity first: date of birth "
                     r"\d\d/\d\d/\d{4}, ZIP \S+\)", seeded.output), seeded.output
    again = runner.invoke(app, ["demo", "--if-empty"])
    assert "not seeded" in again.output


def test_demo_seed_false_keeps_make_run_from_seeding(
    db_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_SEED", "false")
    skipped = runner.invoke(app, ["demo", "--if-empty", "--accounts", "5"])
    assert skipped.exit_code == 0 and "DEMO_SEED=false" in skipped.output
    asked = runner.invoke(app, ["demo", "--accounts", "5"])  # asked for by name: it seeds
    assert "demo portfolio: 5 accounts" in asked.output


def test_audit_verify_detects_tampering(db_env: str) -> None:
    runner.invoke(app, ["apikey", "create"])
    runner.invoke(app, ["apikey", "create"])
    assert "audit chain ok: 2 events" in runner.invoke(app, ["audit", "verify"]).output

    async def tamper() -> None:
        engine = build_engine(db_env)
        async with build_sessionmaker(engine).begin() as session:
            await session.execute(update(AuditEvent).where(AuditEvent.id == 1).values(actor="x"))
        await engine.dispose()

    run(tamper)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "audit event 1: content changed" in result.output


def test_demo_again_is_harmless(db_env: str) -> None:
    first = runner.invoke(app, ["demo", "--accounts", "40"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["demo", "--accounts", "40"])
    assert again.exit_code == 0, again.output
    summary = [line for line in first.output.splitlines() if line.startswith("demo portfolio")]
    assert summary and summary[0] in again.output
    too_many = runner.invoke(app, ["demo", "--accounts", "100000"])
    assert too_many.exit_code == 2 and "Traceback" not in too_many.output


def test_the_module_runs_as_the_cli(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "backend.cli.main", "--help"], cwd=tmp_path,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert "Usage" in done.stdout and "serve" in done.stdout
