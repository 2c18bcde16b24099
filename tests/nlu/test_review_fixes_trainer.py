"""An NLU trainer's review: held-out spans, unscored figures, one-line CLI errors, blank text."""

import json
import re
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from nlu_fixtures import write_small_data, write_yaml
from typer.testing import CliRunner

from backend.api.deps import require_api_key_or_token
from backend.api.routes.nlu import router
from backend.cli.nlu import app
from nlu.dataset import TrainingData
from nlu.evaluation import evaluate_entities
from nlu.reader import read_file, read_training_data
from nlu.runtime import NluConfig, build_interpreter
from nlu.validation import ValidationConfig, validate

ROOT = Path(__file__).resolve().parents[2]
HELD_OUT = ROOT / "bench" / "data" / "debtor_holdout.yml"
# What the training data puts inside an installments span after the number.
UNIT = re.compile(r"\s*(payments?|months?|installments?|pagos?|meses|cuotas?|mensualidades)\b",
                  re.IGNORECASE)
runner = CliRunner()


def _invoke(*args: str) -> tuple[int, str, BaseException | None]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, " ".join(result.output.replace("│", " ").split()), result.exception


def _held_out() -> TrainingData:
    data = TrainingData()
    assert read_file(HELD_OUT, data) == []
    return data


# 1. The held-out set marks installments as the training data does, and scores them.

def test_held_out_installments_spans_take_the_unit_like_the_training_data():
    cut_short = [f"{e.line}: {e.text!r}" for e in _held_out().examples
                 for a in e.annotations
                 if a.entity == "installments" and UNIT.match(e.text[a.end:])]
    assert cut_short == []


def test_the_extractor_scores_on_the_held_out_installments():
    scores = evaluate_entities(_held_out().examples)["installments"]["span"]
    assert scores["support"] == 14 and scores["f1"] and scores["f1"] > 0.5


def test_value_f1_with_nothing_to_score_is_na_not_zero(tmp_path):
    data = write_small_data(tmp_path / "data")  # dates annotated without values
    out = tmp_path / "report"
    code, output, _ = _invoke("evaluate", "--data", str(data), "--folds", "3",
                              "--out", str(out))
    assert code == 0, output
    assert "entity date span F1 " in output and "value F1 n/a (n=0)" in output
    value = json.loads((out / "report.json").read_text())["entities"]["date"]["value"]
    assert value == {"precision": None, "recall": None, "f1": None, "support": 0}


# 2. Bad input on the command line is one line naming the option, not a traceback.

@pytest.mark.parametrize(("args", "named"), [
    (["parse", "pay tomorrow", "--timezone", "Mars/X"], "'--timezone': unknown timezone 'Mars/X'"),
    (["parse", "pay tomorrow", "--timezone", "America"], "'--timezone': unknown timezone"),
    (["parse", "pay tomorrow", "--reference-time", "garbage"],
     "'--reference-time': 'garbage' is not an ISO time"),
    (["parse", "   "], "'TEXT': the message is blank"),
    (["evaluate", "--train", str(ROOT / "nlu" / "training_data"), "--test", "/nonexistent.yml"],
     "'--test': path '/nonexistent.yml' does not exist"),
    (["evaluate", "--data", "/nonexistent"], "'--data': '/nonexistent' does not exist"),
    (["train", "--data", "/nonexistent", "--without-accepted"],
     "'--data': '/nonexistent' does not exist"),
])
def test_bad_input_is_an_error_naming_the_option(args, named):
    code, output, exception = _invoke(*args)
    assert code == 2 and isinstance(exception, SystemExit), output
    assert f"Invalid value for {named}" in output
    assert "Traceback" not in output


def test_validating_a_missing_directory_is_one_error():
    code, output, _ = _invoke("validate", "--data", "/nonexistent")
    assert code == 2
    assert "Invalid value for '--data': '/nonexistent' does not exist" in output
    assert "has 0 examples" not in output


def test_no_examples_at_all_is_one_problem_not_one_per_intent():
    [problem] = validate(TrainingData())
    assert "no intent examples at all" in str(problem)


# 3. Blank text is refused by the API as "" is.

@pytest.fixture(scope="module")
def parse_app(tmp_path_factory):
    base = tmp_path_factory.mktemp("trainer_review")
    config = NluConfig(model_dir=base / "models", data_dir=write_small_data(base / "data"))
    application = FastAPI()
    application.include_router(router)
    application.state.container = SimpleNamespace(interpreter=build_interpreter(config))
    application.dependency_overrides[require_api_key_or_token] = lambda: None
    return application


async def _post(application, body):
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post("/model/parse", json=body)


@pytest.mark.parametrize("body", [{"text": "   "}, {"text": "\n\t"},
                                  {"text": "hi", "timezone": "America"}])
async def test_blank_text_and_a_zone_folder_get_422(parse_app, body):
    response = await _post(parse_app, body)
    assert response.status_code == 422, response.text


async def test_text_with_spaces_around_still_parses(parse_app):
    response = await _post(parse_app, {"text": "  hi  ",
                                       "reference_time": "2026-11-25T10:00:00-05:00"})
    assert response.status_code == 200


# 4. No model: say so.

def test_models_says_when_there_is_none(tmp_path):
    code, output, _ = _invoke("models", "--model-dir", str(tmp_path / "models"))
    assert code == 0
    assert output == (f"No models in {tmp_path / 'models'}. "
                      "Train one with `parley nlu train`.")


# 5. The same example under two intents names both, with where each is.

def test_two_intents_message_names_both_intents_and_places(tmp_path):
    write_yaml(tmp_path, "a.yml", 'version: "3.1"\nnlu:\n- intent: affirm\n  examples: |\n'
               "    - ok\n- intent: deny\n  examples: |\n    - OK\n")
    data, _ = read_training_data(tmp_path)
    config = ValidationConfig(min_examples=1, intents=("affirm", "deny"),
                              require_all_entities=False)
    [clash] = [str(p) for p in validate(data, config)]
    file = tmp_path / "a.yml"
    assert clash.startswith(
        f"{file}:8: example 'OK' is under two intents: 'affirm' ({file}:5, as 'ok') "
        f"and 'deny' ({file}:8) — fix: keep the message under the one intent")
