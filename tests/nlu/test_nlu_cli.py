"""`parley nlu` commands through Typer's CliRunner."""

import json

from nlu_fixtures import write_small_data, write_yaml
from typer.testing import CliRunner

from backend.cli.nlu import app

runner = CliRunner()


def test_validate_fails_with_file_and_line(tmp_path):
    write_yaml(tmp_path, "greet.yml", 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n'
               "    - hi [there\n")
    result = runner.invoke(app, ["validate", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'greet.yml'}:5: broken annotation" in result.output


def test_train_parse_and_evaluate(tmp_path):
    data = write_small_data(tmp_path / "data")
    models = tmp_path / "models"
    result = runner.invoke(app, ["train", "--data", str(data), "--model-dir", str(models)])
    assert result.exit_code == 1  # the strict minimum of 40 examples per intent
    assert "has 12 examples (minimum 40)" in result.output

    result = runner.invoke(app, ["parse", "ill pay fifty dollars fri", "--data", str(data),
                                 "--model-dir", str(models),
                                 "--reference-time", "2026-11-25T10:00:00",
                                 "--timezone", "America/Bogota"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["intent"]["name"] == "promise_to_pay"
    assert [(e["entity"], e["value"]) for e in body["entities"]] == [
        ("amount", "50.00"), ("date", "2026-11-27")]

    out = tmp_path / "report"
    result = runner.invoke(app, ["evaluate", "--data", str(data), "--folds", "3",
                                 "--out", str(out), "--fail-under", "0.5"])
    assert result.exit_code == 0, result.output
    assert "macro F1" in result.output
    assert {p.name for p in out.iterdir()} == {
        "report.json", "confusion.json", "confusion.png", "misclassified.json"}
    report = json.loads((out / "report.json").read_text())
    assert set(report["intents"]) == {"affirm", "greet", "opt_out", "promise_to_pay"}
    assert report["entities"]["date"]["span"]["support"] == 12

    result = runner.invoke(app, ["evaluate", "--data", str(data), "--folds", "3",
                                 "--out", str(out), "--fail-under", "1.01"])
    assert result.exit_code == 1


def test_evaluate_train_test_files(tmp_path):
    data = write_small_data(tmp_path / "data")
    result = runner.invoke(app, ["evaluate", "--train", str(data / "greet.yml"),
                                 "--test", str(data / "affirm.yml"), "--out",
                                 str(tmp_path / "r")])
    assert result.exit_code != 0  # one intent cannot train a classifier
    result = runner.invoke(app, ["evaluate", "--train", str(data / "greet.yml")])
    assert result.exit_code != 0
