"""`parley nlu train` adds the trainers' accepted examples unless told to leave them out."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from backend.cli.nlu import app as nlu_cli
from backend.container import Container
from backend.db.models import Message, TrainingExample
from backend.db.models.enums import Role
from backend.settings import Settings
from nlu.model import read_metadata
from tests.conftest import TRAINING_DATA
from tests.console.conftest import NOW, LoggedIn, Seeder
from tests.nlu.nlu_fixtures import write_small_data

RELABELLED = ("my sis <name> handles my bills, her cell <phone> email <email>",
              "mi hermana <name> paga mis cuentas, su cel <phone>",
              "my daughter handles the bills now, her email is <email>")
UNREACHABLE = "postgresql+asyncpg://parley@127.0.0.1:9/parley"


async def test_train_adds_the_accepted_examples_by_default(
    console: Container, seed: Seeder, logged_in: LoggedIn, settings: Settings, tmp_path: Path
) -> None:
    _, _, trainer = await logged_in(Role.TRAINER)
    cids = [await seed(text, intent="attorney_represented", confidence=0.7)
            for text in RELABELLED]
    async with console.sessions.begin() as session:
        for text, cid in zip(RELABELLED, cids, strict=True):
            mid = await session.scalar(select(Message.id).where(Message.conversation_id == cid))
            session.add(TrainingExample(message_id=mid, status="accepted", text=text,
                                        intent="out_of_scope", entities=[], masked=[],
                                        reviewer_id=trainer, reviewed_at=NOW))
    models = tmp_path / "models"
    trained = await asyncio.to_thread(
        CliRunner().invoke, nlu_cli, ["train", "--data", str(TRAINING_DATA),
                                      "--model-dir", str(models)],
        env={"DATABASE_URL": settings.database_url})
    assert trained.exit_code == 0, trained.output
    assert "3 accepted)" in trained.output
    (version,) = [p.name for p in models.iterdir() if p.is_dir()]
    assert read_metadata(models, version)["details"]["accepted"] == 3


def test_without_accepted_leaves_them_out_and_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(nlu_cli, [
        "train", "--without-accepted", "--data", str(write_small_data(tmp_path / "data")),
        "--model-dir", str(tmp_path / "models")], env={"DATABASE_URL": UNREACHABLE})
    # The database is never asked: the run goes on to the data (too small to train here).
    assert "could not be read" not in result.output
    assert "has 12 examples (minimum 40)" in result.output


def test_an_unreadable_database_stops_training_with_the_way_out(tmp_path: Path) -> None:
    models = tmp_path / "models"
    result = CliRunner().invoke(nlu_cli, [
        "train", "--data", str(write_small_data(tmp_path / "data")),
        "--model-dir", str(models)], env={"DATABASE_URL": UNREACHABLE})
    assert result.exit_code == 1
    assert "accepted examples could not be read" in result.output
    assert "--without-accepted" in result.output
    assert not models.exists()
