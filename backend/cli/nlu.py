"""`parley nlu`: validate, train, evaluate and try the NLU from the command line."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from nlu.dataset import Problem, TrainingData
from nlu.evaluation import EvaluationReport, cross_validate, train_test
from nlu.reader import read_file
from nlu.report_files import write_report
from nlu.runtime import NluConfig, build_interpreter
from nlu.training import TrainingDataError, load_and_validate, train_and_save
from nlu.validation import ValidationConfig

app = typer.Typer(help="Validate, train, evaluate and try Parley's NLU.", no_args_is_help=True)

DataDir = Annotated[Path, typer.Option("--data", help="Training data directory.")]
ModelDir = Annotated[Path, typer.Option("--model-dir", help="Where versioned models live.")]
DEFAULT_DATA = Path("nlu/training_data")
DEFAULT_MODELS = Path("var/models/nlu")

def _print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        typer.echo(str(problem), err=True)
    typer.echo(f"{len(problems)} problem(s) found", err=True)

@app.command()
def validate(
    data: DataDir = DEFAULT_DATA,
    min_examples: Annotated[int, typer.Option(help="Minimum examples per intent.")] = 40,
) -> None:
    """Check the training data strictly; exit 1 listing every problem with file, line and fix."""
    training, problems = load_and_validate(data, ValidationConfig(min_examples=min_examples))
    if problems:
        _print_problems(problems)
        raise typer.Exit(1)
    typer.echo(f"ok: {len(training.examples)} examples, {len(set(training.labels))} intents")

@app.command()
def train(data: DataDir = DEFAULT_DATA, model_dir: ModelDir = DEFAULT_MODELS) -> None:
    """Validate, train and save a new model version, and make it current."""
    try:
        model = train_and_save(data, model_dir)
    except TrainingDataError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(1) from exc
    typer.echo(f"trained {model.version} ({len(model.classifier.labels)} intents)")

@app.command()
def evaluate(
    data: DataDir = DEFAULT_DATA,
    folds: Annotated[int, typer.Option(help="Cross-validation folds.")] = 5,
    train_file: Annotated[Path | None, typer.Option("--train", help="Train on this file.")] = None,
    test_file: Annotated[Path | None, typer.Option("--test", help="Test on this file.")] = None,
    out: Annotated[Path, typer.Option(help="Report directory.")] = Path("var/reports/nlu"),
    fail_under: Annotated[float, typer.Option(help="Exit 1 if macro F1 is below.")] = 0.0,
) -> None:
    """Per-intent P/R/F1, macro/weighted F1, entity scores, confusion matrix, misclassified."""
    if (train_file is None) != (test_file is None):
        raise typer.BadParameter("give both --train and --test, or neither")
    report = _evaluate(data, folds, train_file, test_file)
    write_report(report, out)
    _print_report(report)
    typer.echo(f"report written to {out}")
    if report.macro_f1 < fail_under:
        typer.echo(f"macro F1 {report.macro_f1:.4f} is below {fail_under}", err=True)
        raise typer.Exit(1)

def _evaluate(data: Path, folds: int, train_file: Path | None,
              test_file: Path | None) -> EvaluationReport:
    if train_file is None or test_file is None:
        training, _ = load_and_validate(data, ValidationConfig(min_examples=0))
        return cross_validate(training, folds)

    train_data, test_data = TrainingData(), TrainingData()
    problems = [*read_file(train_file, train_data), *read_file(test_file, test_data)]
    if problems:
        _print_problems(problems)
        raise typer.Exit(1)
    return train_test(train_data, test_data)

def _print_report(report: EvaluationReport) -> None:
    typer.echo(f"{'intent':<24}{'prec':>7}{'rec':>7}{'f1':>7}{'support':>9}")
    for label in report.labels:
        row = report.intents[label]
        typer.echo(f"{label:<24}{row['precision']:>7.3f}{row['recall']:>7.3f}"
                   f"{row['f1-score']:>7.3f}{int(row['support']):>9}")
    typer.echo(f"accuracy {report.accuracy:.4f}  macro F1 {report.macro_f1:.4f}  "
               f"weighted F1 {report.weighted_f1:.4f}")
    for kind, scores in report.entities.items():
        span, value = scores["span"], scores["value"]
        typer.echo(f"entity {kind:<13} span F1 {span['f1']:.3f} (n={span['support']})  "
                   f"value F1 {value['f1']:.3f} (n={value['support']})")
    typer.echo(f"{len(report.misclassified)} misclassified")

@app.command()
def parse(
    text: str,
    reference_time: Annotated[str | None, typer.Option(help="ISO time; default now.")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA zone, e.g. America/Bogota.")] = None,
    data: DataDir = DEFAULT_DATA,
    model_dir: ModelDir = DEFAULT_MODELS,
) -> None:
    """Parse one message and print Rasa-shaped JSON."""
    when = datetime.fromisoformat(reference_time) if reference_time else datetime.now(UTC)
    interpreter = build_interpreter(NluConfig(model_dir=model_dir, data_dir=data))
    result = asyncio.run(interpreter.parse(text, reference_time=when, timezone=timezone))
    typer.echo(json.dumps(result.to_rasa(), indent=2, ensure_ascii=False))
