"""`parley nlu` commands through Typer's CliRunner."""

import json
from datetime import UTC, datetime
from pathlib import Path

from nlu_fixtures import write_small_data, write_yaml
from typer.testing import CliRunner

from backend.cli.nlu import app
from nlu.model import current_version
from nlu.training import train_and_save

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


def test_evaluate_trains_on_a_directory_and_tests_on_a_file(tmp_path):
    data = write_small_data(tmp_path / "data")
    held_out = tmp_path / "held_out.yml"
    held_out.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hey hey\n',
                        encoding="utf-8")
    out = tmp_path / "r"
    result = runner.invoke(app, ["evaluate", "--train", str(data), "--test", str(held_out),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["intents"]["greet"]["support"] == 1  # only the held-out message was scored


def test_train_compare_promote_and_roll_back_from_the_command_line(tmp_path):
    data = Path(__file__).resolve().parents[2] / "nlu" / "training_data"
    models = tmp_path / "models"
    first = runner.invoke(app, ["train", "--data", str(data), "--model-dir", str(models)])
    assert first.exit_code == 0, first.output
    assert "not promotable: this version is already live" in first.output  # the first goes live
    live = first.output.split()[1]
    again = runner.invoke(app, ["promote", live, "--model-dir", str(models)])
    assert again.exit_code == 1 and "this version is already live" in again.output
    assert runner.invoke(app, ["rollback", "--model-dir", str(models)]).exit_code == 1

    second = runner.invoke(app, ["train", "--data", str(data), "--model-dir", str(models),
                                 "--promote"])
    assert second.exit_code == 0, second.output
    candidate = second.output.split()[1]
    assert "macro F1: live 0." in second.output and "promotable: macro F1" in second.output
    assert f"{candidate} is live" in second.output
    listed = runner.invoke(app, ["models", "--model-dir", str(models)]).output.splitlines()
    assert [line.split()[:2] for line in listed] == [["*", candidate], [live, "data"]]
    rolled = runner.invoke(app, ["rollback", "--model-dir", str(models)])
    assert rolled.exit_code == 0 and f"{live} is live again" in rolled.output


def test_the_commands_use_the_servers_directories_by_default(tmp_path, monkeypatch):
    """Without --data/--model-dir the CLI reads NLU_TRAINING_DATA and NLU_MODEL_DIR, the
    directories the server reads, so a promotion from the CLI reaches the server."""
    data, models = write_small_data(tmp_path / "data"), tmp_path / "models"
    first, _ = train_and_save(data, models, now=datetime(2026, 11, 28, tzinfo=UTC), strict=False)
    second, _ = train_and_save(data, models, now=datetime(2026, 11, 29, tzinfo=UTC),
                               strict=False)
    monkeypatch.setenv("NLU_TRAINING_DATA", str(data))
    monkeypatch.setenv("NLU_MODEL_DIR", str(models))
    listed = runner.invoke(app, ["models"])
    assert listed.exit_code == 0 and f"* {first.version}" in listed.output, listed.output
    assert runner.invoke(app, ["promote", second.version]).exit_code == 0
    assert current_version(models) == second.version
    validated = runner.invoke(app, ["validate"])  # the small data is too small: it says where
    assert validated.exit_code == 1 and str(data / "greet.yml") in validated.output


def test_help_shows_the_defaults_in_brackets():
    # Rich reads "[default: ...]" as markup and drops it unless the bracket is escaped.
    expected = {"train": ("[default: NLU_TRAINING_DATA]", "[default: NLU_MODEL_DIR]"),
                "evaluate": ("[default: NLU_TRAINING_DATA]",),
                "validate": ("[default: NLU_TRAINING_DATA]",),
                "export": ("[default: NLU_TRAINING_DATA/accepted.yml]",)}
    for command, defaults in expected.items():
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        flat = " ".join(result.output.replace("│", " ").split())
        for default in defaults:
            assert default in flat, (command, result.output)


def test_evaluate_refuses_broken_data_with_file_and_line(tmp_path):
    data = write_small_data(tmp_path / "data")
    (data / "greet.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi [there\n', encoding="utf-8")
    out = tmp_path / "report"
    result = runner.invoke(app, ["evaluate", "--data", str(data), "--folds", "3",
                                 "--out", str(out)])
    assert result.exit_code == 1  # not a score without the broken file's intent
    assert f"{data / 'greet.yml'}:5: broken annotation" in result.output
    assert not out.exists()
