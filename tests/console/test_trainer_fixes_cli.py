"""`parley nlu promote|rollback` audit like the console; `export` never wipes the file with an
empty database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from backend.cli.nlu import app as nlu_cli
from backend.container import Container
from backend.db.models import AuditEvent
from backend.services import audit
from backend.settings import Settings
from nlu.model import current_version
from nlu.training import train_and_save
from tests.nlu.nlu_fixtures import write_small_data


async def _cli(args: list[str], env: dict[str, str]):
    # The CLI runs its own event loop: give it a thread, as a shell would give it a process.
    return await asyncio.to_thread(CliRunner().invoke, nlu_cli, args, env=env)


async def test_promote_and_rollback_from_the_command_line_are_audited(
    container: Container, settings: Settings, tmp_path: Path
) -> None:
    data, models = write_small_data(tmp_path / "data"), tmp_path / "models"
    first, _ = train_and_save(data, models, now=datetime(2026, 11, 28, tzinfo=UTC),
                              strict=False)
    second, _ = train_and_save(data, models, now=datetime(2026, 11, 29, tzinfo=UTC),
                               strict=False)
    env = {"DATABASE_URL": settings.database_url}
    promoted = await _cli(["promote", second.version, "--model-dir", str(models)], env)
    assert promoted.exit_code == 0, promoted.output
    rolled = await _cli(["rollback", "--model-dir", str(models)], env)
    assert rolled.exit_code == 0, rolled.output
    assert current_version(models) == first.version
    async with container.sessions() as session:
        events = (await session.scalars(select(AuditEvent).where(
            AuditEvent.subject_type == "nlu_model").order_by(AuditEvent.id))).all()
        chain = await audit.verify(session)
    assert [(e.action, e.actor, e.subject_id) for e in events] == [
        ("nlu_model.promoted", "cli", second.version),
        ("nlu_model.rolled_back", "cli", first.version)]
    assert events[0].data["replaced"] == first.version
    assert chain.ok


def test_without_a_database_the_commands_still_work_and_create_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where the default SQLite file would appear
    data, models = write_small_data(tmp_path / "data"), tmp_path / "models"
    train_and_save(data, models, now=datetime(2026, 11, 28, tzinfo=UTC), strict=False)
    second, _ = train_and_save(data, models, now=datetime(2026, 11, 29, tzinfo=UTC),
                               strict=False)
    result = CliRunner().invoke(nlu_cli, ["promote", second.version, "--model-dir", str(models)],
                                env={"DATABASE_URL": None})
    assert result.exit_code == 0, result.output
    # No database file appears (the install's secret, var/secret_key, may: Settings makes it).
    assert not (tmp_path / "var" / "parley.db").exists()
    assert [p.name for p in (tmp_path / "var").glob("*")] in ([], ["secret_key"])


async def test_an_empty_database_leaves_the_exported_file_alone(
    container: Container, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "accepted.yml"
    committed = 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hiya\n'
    out.write_text(committed, encoding="utf-8")
    env = {"DATABASE_URL": settings.database_url}
    result = await _cli(["export", "--out", str(out)], env)
    assert result.exit_code == 0, result.output
    assert "nothing to export" in result.output and "left unchanged" in result.output
    assert out.read_text(encoding="utf-8") == committed
    missing = tmp_path / "new" / "accepted.yml"
    result = await _cli(["export", "--out", str(missing)], env)
    assert result.exit_code == 0 and not missing.exists()


async def test_training_from_the_command_line_is_audited(
    container: Container, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, models = write_small_data(tmp_path / "data"), tmp_path / "models"
    trained = train_and_save(data, models, now=datetime(2026, 11, 28, tzinfo=UTC), strict=False)
    # The shipped data takes a minute to train; the command's own steps are what is tested.
    monkeypatch.setattr("backend.cli.nlu.train_and_save", lambda *a, **k: trained)
    result = await _cli(["train", "--data", str(data), "--model-dir", str(models)],
                        {"DATABASE_URL": settings.database_url})
    assert result.exit_code == 0, result.output
    model = trained[0]
    async with container.sessions() as session:
        [event] = (await session.scalars(select(AuditEvent).where(
            AuditEvent.subject_type == "nlu_model"))).all()
    assert (event.action, event.actor, event.subject_id) == ("nlu_model.trained", "cli",
                                                           model.version)
    assert event.data == {"data_hash": model.data_hash, "accepted": 0, "live": True}
