"""The models page over HTTP: retrain, see the comparison, promote or be refused, roll back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import AuditEvent
from backend.db.models.enums import Role
from backend.nlu_wiring import ModelService
from backend.settings import Settings
from nlu.accepted import AcceptedExample, merge
from nlu.heldout import split
from nlu.model import current_version
from nlu.reader import read_training_data
from nlu.training import train_candidate
from tests.conftest import TRAINING_DATA
from tests.console.conftest import NOW, LoggedIn, Seeder
from tests.nlu.nlu_fixtures import write_small_data

PAGE = "/console/models"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The test's database; the shipped training data; an empty model directory."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        parley_env="test", database_url=database_url, redis_url=None,
        nlu_model_dir=tmp_path / "models", nlu_training_data=TRAINING_DATA,
    )


def _version_of(location: str) -> str:
    match = re.search(r"version=([^&]+)", location)
    assert match, location
    return match.group(1)


def _worse_candidate(models: Path) -> str:
    """Every training greeting relabelled affirm: worse overall than any live model."""
    data, _ = read_training_data(TRAINING_DATA)
    greetings = [e.text for e in split(data)[0].examples if e.intent == "greet"]
    model, comparison = train_candidate(
        merge(data, [AcceptedExample(t, "affirm") for t in greetings]), models, now=NOW,
        by="test")
    assert not comparison.promotable
    return model.version


async def test_retrain_compare_refuse_promote_and_roll_back(
    console: Container, seed: Seeder, logged_in: LoggedIn, settings: Settings
) -> None:
    client, token, _ = await logged_in(Role.TRAINER)
    models = settings.nlu_model_dir
    assert "No candidate" in (await client.get(PAGE)).text

    first = await client.post(f"{PAGE}/train", data={"csrf_token": token})
    assert "notice=trained" in first.headers["location"]
    live = _version_of(first.headers["location"])
    assert current_version(models) == live  # the very first model goes live at once

    cid = await seed("this is not jane, i just got this number last month", intent="out_of_scope",
                     confidence=0.2)
    inbox = (await client.get("/console/trainer")).text
    mid = re.search(r'data-message="(\d+)"', inbox)
    assert mid and cid
    await client.post(f"/console/trainer/messages/{mid.group(1)}/accept",
                      data={"csrf_token": token, "intent": "wrong_person"})
    trained = await client.post(f"{PAGE}/train", data={"csrf_token": token})
    candidate = _version_of(trained.headers["location"])
    assert current_version(models) == live
    page = (await client.get(trained.headers["location"])).text
    assert f"Candidate <code>{candidate}</code> against live <code>{live}</code>" in page
    assert "Can be promoted: macro F1" in page and "not worse than the live model" in page
    assert page.count("<tr><td>") >= 20  # one row per intent, live and candidate F1
    assert "Macro F1 (overall)" in page and "1 accepted example(s)" in page

    worse = _worse_candidate(models)
    page = (await client.get(f"{PAGE}?version={worse}")).text
    assert "Cannot be promoted: macro F1" in page and "disabled" in page
    refused = await client.post(f"{PAGE}/promote", data={"csrf_token": token, "version": worse})
    assert "notice=refused" in refused.headers["location"]
    assert current_version(models) == live

    promoted = await client.post(f"{PAGE}/promote",
                                 data={"csrf_token": token, "version": candidate})
    assert promoted.headers["location"] == f"{PAGE}?notice=promoted"
    assert current_version(models) == candidate
    page = (await client.get(promoted.headers["location"])).text
    assert f'<code id="live-version">{candidate}</code>' in page
    assert f"Roll back to {live}" in page

    rolled = await client.post(f"{PAGE}/rollback", data={"csrf_token": token})
    assert rolled.headers["location"] == f"{PAGE}?notice=rolled_back"
    assert current_version(models) == live
    again = await client.post(f"{PAGE}/rollback", data={"csrf_token": token})
    assert again.headers["location"] == f"{PAGE}?notice=no_previous"

    async with console.sessions() as session:
        actions = (await session.scalars(select(AuditEvent.action).where(
            AuditEvent.subject_type == "nlu_model").order_by(AuditEvent.id))).all()
    assert actions == ["nlu_model.trained", "nlu_model.trained", "nlu_model.promoted",
                       "nlu_model.rolled_back"]


async def test_training_refuses_data_with_problems_and_lists_them(
    console: Container, logged_in: LoggedIn, tmp_path: Path
) -> None:
    client, token, _ = await logged_in(Role.ADMIN)
    console.services["nlu_models"] = ModelService(tmp_path / "m",
                                                  write_small_data(tmp_path / "small"))
    response = await client.post(f"{PAGE}/train", data={"csrf_token": token})
    assert response.status_code == 422
    assert "Not trained:" in response.text and "examples (minimum 40)" in response.text
    assert not (tmp_path / "m").exists()


async def test_promote_without_a_version_says_so(logged_in: LoggedIn) -> None:
    client, token, _ = await logged_in(Role.TRAINER)
    response = await client.post(f"{PAGE}/promote", data={"csrf_token": token})
    assert response.headers["location"] == f"{PAGE}?notice=no_version"
