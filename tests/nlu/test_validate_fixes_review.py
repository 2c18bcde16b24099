"""Validation fixes: an intent with no examples is reported against the directory given."""

from pathlib import Path

from nlu_fixtures import write_yaml
from typer.testing import CliRunner

from backend.cli.nlu import app
from nlu.reader import read_training_data
from nlu.validation import ValidationConfig, validate

CONFIG = ValidationConfig(min_examples=1, intents=("greet", "affirm"),
                          require_all_entities=False)
GREET = 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n'
BROKEN = 'version: "3.1"\nnlu:\n- intent: affirm\n  examples: |\n    - yes\n    - ok\n  - [\n'


def test_a_missing_intent_names_the_directory_read(tmp_path: Path) -> None:
    folder = tmp_path / "mydata"
    write_yaml(folder, "greet.yml", GREET)
    write_yaml(folder, "affirm.yml", BROKEN)
    data, problems = read_training_data(folder)
    assert any(str(p).startswith(f"{folder / 'affirm.yml'}:") for p in problems)
    [missing] = [str(p) for p in validate(data, CONFIG)]
    assert missing.startswith(f"{folder}:0: intent 'affirm' has 0 examples")
    assert "nlu/training_data" not in missing


def test_accepted_examples_do_not_move_the_directory(tmp_path: Path) -> None:
    write_yaml(tmp_path, "greet.yml", GREET)
    data, _ = read_training_data(tmp_path)
    data.examples.append(type(data.examples[0])("yes", "greet", (), "<accepted>", 0))
    [missing] = [str(p) for p in validate(data, CONFIG)]
    assert missing.startswith(f"{tmp_path}:0: intent 'affirm'")


def test_the_cli_names_the_given_directory(tmp_path: Path) -> None:
    folder = tmp_path / "given"
    write_yaml(folder, "greet.yml", GREET)
    write_yaml(folder, "affirm.yml", BROKEN)
    result = CliRunner().invoke(app, ["validate", "--data", str(folder)])
    assert result.exit_code == 1
    assert f"{folder}:0: intent 'affirm' has 0 examples" in result.output
    assert "nlu/training_data:0" not in result.output
