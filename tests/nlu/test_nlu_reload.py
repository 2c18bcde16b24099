"""A running interpreter picks up a promoted (or rolled back) model without a restart."""

import asyncio
from datetime import UTC, datetime

import pytest
from nlu_fixtures import write_small_data

from nlu.accepted import AcceptedExample, merge
from nlu.model import ARTIFACT
from nlu.promotion import promote, rollback
from nlu.reader import read_training_data
from nlu.reloading import ReloadingInterpreter
from nlu.runtime import NluConfig, build_interpreter
from nlu.training import train_candidate

REF = datetime(2026, 11, 25, 12, tzinfo=UTC)
TEXT = "put me through to your boss"


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup(tmp_path):
    data_dir = write_small_data(tmp_path / "data")
    models = tmp_path / "models"
    running = build_interpreter(NluConfig(model_dir=models, data_dir=data_dir,
                                          reload_seconds=0))
    data, _ = read_training_data(data_dir)
    relabelled = merge(data, [AcceptedExample(TEXT, "opt_out")])
    candidate, comparison = train_candidate(relabelled, models, now=REF, by="test")
    assert comparison.promotable
    return running, models, candidate


async def test_the_next_parse_after_a_promotion_uses_the_new_model(setup):
    running, models, candidate = setup
    assert isinstance(running, ReloadingInterpreter)
    before = await running.parse(TEXT, reference_time=REF)
    assert before.model_version != candidate.version
    promote(models, candidate.version, now=REF, by="test")  # as another process would
    after = await running.parse(TEXT, reference_time=REF)
    assert after.model_version == candidate.version
    assert after.intent.name == "opt_out"
    rollback(models, now=REF, by="test")
    assert (await running.parse(TEXT, reference_time=REF)).model_version == before.model_version


async def test_the_pointer_is_checked_at_most_every_few_seconds(setup):
    running, models, candidate = setup
    ticks = Ticks()
    watcher = ReloadingInterpreter(running.model, models, every=5.0, monotonic=ticks)
    promote(models, candidate.version, now=REF, by="test")
    ticks.now = 4.9
    assert (await watcher.parse(TEXT, reference_time=REF)).model_version == running.model.version
    ticks.now = 5.0
    assert (await watcher.parse(TEXT, reference_time=REF)).model_version == candidate.version
    assert watcher.parse_sync(TEXT, reference_time=REF).model_version == candidate.version


async def test_parses_during_a_swap_use_one_model_or_the_other(setup):
    running, models, candidate = setup
    old = running.model.version
    promote(models, candidate.version, now=REF, by="test")
    seen = await asyncio.gather(*(running.parse(TEXT, reference_time=REF) for _ in range(20)))
    assert {p.model_version for p in seen} <= {old, candidate.version}
    assert (await running.parse(TEXT, reference_time=REF)).model_version == candidate.version


async def test_a_model_that_cannot_load_is_skipped_and_the_running_one_kept(setup, caplog):
    running, models, candidate = setup
    old = running.model.version
    (models / candidate.version / ARTIFACT).write_bytes(b"not a pickle")
    (models / "current").write_text(candidate.version + "\n")
    parse = await running.parse(TEXT, reference_time=REF)
    assert parse.model_version == old
    assert "could not load NLU model" in caplog.text
