"""`parley accounts import` on files it cannot read: a clean error, nothing written."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli.main import app
from backend.services.imports.columns import COLUMN_NAMES, EXAMPLE_ROWS

runner = CliRunner()


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return path


def test_a_latin1_file_is_refused_with_its_name_and_reason(db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    with path.open("w", newline="", encoding="latin-1") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMN_NAMES))
        writer.writeheader()
        writer.writerow({**EXAMPLE_ROWS[0], "debtor_name": "José Muñoz"})
    result = runner.invoke(app, ["accounts", "import", str(path)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{path}: line 2: byte 0xe9 is not UTF-8 text; the file must be UTF-8" in result.output
    assert not db_path.exists()  # not even migrated: nothing was written
