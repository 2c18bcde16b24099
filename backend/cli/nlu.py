"""`parley nlu`: validate, train, compare, promote, export and try the NLU."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from sqlalchemy.exc import SQLAlchemyError

from backend.cli.runtime import DatabaseUnreachable, command_container, run
from backend.console.actions import accepted_examples
from backend.services import audit
from backend.settings import DEFAULT_SQLITE_PATH, Settings
from bot.clock import SystemClock
from nlu.accepted import ACCEPTED_FILE, AcceptedExample, ExampleRefused, label_conflicts, to_yaml
from nlu.comparison import Comparison
from nlu.dataset import Problem, TrainingData
from nlu.evaluation import EvaluationReport, cross_validate, train_test
from nlu.model import current_version, list_versions
from nlu.promotion import PromotionRefused, promote, rollback
from nlu.reader import read_file, read_training_data
from nlu.report_files import write_report
from nlu.runtime import NluConfig, build_interpreter
from nlu.training import TrainingDataError, load_and_validate, train_and_save
from nlu.validation import ValidationConfig

app = typer.Typer(help="Validate, train, evaluate and try Parley's NLU.", no_args_is_help=True)

DataDir = Annotated[Path | None, typer.Option(
    "--data", help="Training data directory \\[default: NLU_TRAINING_DATA].")]
ModelDir = Annotated[Path | None, typer.Option(
    "--model-dir", help="Where versioned models live \\[default: NLU_MODEL_DIR].")]


def _data_dir(given: Path | None) -> Path:
    """--data, else NLU_TRAINING_DATA: the directory the server trains from."""
    return given or Settings().nlu_training_data


def _training_dir(given: Path | None) -> Path:
    """The data directory a command reads: a missing one is one error, not a line per intent."""
    path = _data_dir(given)
    if not path.is_dir():
        where = "'--data'" if given else "NLU_TRAINING_DATA"
        what = "is not a directory" if path.exists() else "does not exist"
        raise typer.BadParameter(f"'{path}' {what}", param_hint=where)
    return path


def _model_dir(given: Path | None) -> Path:
    """--model-dir, else NLU_MODEL_DIR: the directory the server loads and watches."""
    return given or Settings().nlu_model_dir


def _print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        typer.echo(str(problem), err=True)
    typer.echo(f"{len(problems)} problem(s) found", err=True)

@app.command()
def validate(
    data: DataDir = None,
    min_examples: Annotated[int, typer.Option(help="Minimum examples per intent.")] = 40,
) -> None:
    """Check the training data strictly; exit 1 listing every problem with file, line and fix."""
    training, problems = load_and_validate(_training_dir(data),
                                           ValidationConfig(min_examples=min_examples))
    if problems:
        _print_problems(problems)
        raise typer.Exit(1)
    typer.echo(f"ok: {len(training.examples)} examples, {len(set(training.labels))} intents")

@app.command()
def train(
    data: DataDir = None, model_dir: ModelDir = None,
    with_accepted: Annotated[bool, typer.Option(
        "--with-accepted/--without-accepted",
        help="Add the examples trainers accepted in the console (reads DATABASE_URL); "
             "--without-accepted trains on the shipped data only.")] = True,
    live: Annotated[bool, typer.Option(
        "--promote", help="Promote the candidate if it is not worse than the live model.")
    ] = False,
) -> None:
    """Validate and train a candidate version; compare it with the live model on held-out data.

    The very first model goes live at once; later ones stay candidates until promoted.
    """
    data = _training_dir(data)
    accepted = _accepted_from_database() if with_accepted else []
    conflicts = label_conflicts(accepted)
    if conflicts:
        for conflict in conflicts:
            typer.echo(conflict, err=True)
        typer.echo(f"not trained: {len(conflicts)} text(s) accepted under two intents", err=True)
        raise typer.Exit(1)
    now = SystemClock().now()
    model_dir = _model_dir(model_dir)
    try:
        model, comparison = train_and_save(data, model_dir, now=now, accepted=accepted)
    except TrainingDataError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(1) from exc
    added = f"{len(accepted)} accepted" if with_accepted else "accepted left out"
    typer.echo(f"trained {model.version} ({len(model.classifier.labels)} intents, "
               f"data {model.data_hash[:12]}, {added})")
    _audit("nlu_model.trained", model.version, now,
           {"data_hash": model.data_hash, "accepted": len(accepted),
            "live": comparison.live == model.version})
    _print_comparison(comparison)
    if live and comparison.live != model.version:
        _promote(model_dir, model.version)

def _accepted_from_database() -> list[AcceptedExample]:
    """The console's accepted examples; none when there is no console database to read."""
    settings = Settings()
    if "database_url" not in settings.model_fields_set and not DEFAULT_SQLITE_PATH.exists():
        return []

    async def body() -> list[AcceptedExample]:
        async with command_container(settings) as container, container.sessions() as session:
            return await accepted_examples(session)

    try:
        return run(body)
    except (DatabaseUnreachable, SQLAlchemyError, OSError) as exc:
        typer.echo(f"not trained: the accepted examples could not be read: {exc}\n"
                   "pass --without-accepted to train on the shipped data only", err=True)
        raise typer.Exit(1) from None

def _print_comparison(comparison: Comparison) -> None:
    typer.echo(f"{'intent':<24}{'held out':>9}{'live F1':>9}{'cand F1':>9}")
    for row in comparison.rows:
        live = "-" if row.live_f1 is None else f"{row.live_f1:.3f}"
        typer.echo(f"{row.intent:<24}{row.support:>9}{live:>9}{row.candidate_f1:>9.3f}")
    old = comparison.live_score["macro_f1"] if comparison.live_score else None
    typer.echo(f"macro F1: live {'-' if old is None else f'{old:.4f}'}  candidate "
               f"{comparison.candidate_score['macro_f1']:.4f} on {comparison.examples} held-out")
    typer.echo(("promotable: " if comparison.promotable else "not promotable: ")
               + comparison.reason)

def _promote(model_dir: Path, version: str) -> None:
    now = SystemClock().now()
    try:
        comparison = promote(model_dir, version, now=now, by="cli")
    except PromotionRefused as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{version} is live; running processes switch to it within NLU_RELOAD_SECONDS")
    _audit("nlu_model.promoted", version, now,
           {"replaced": comparison.live, "reason": comparison.reason})

def _audit(action: str, version: str, now: datetime, data: dict[str, object]) -> None:
    """Record the change like the console does, when DATABASE_URL is set (env or .env)."""
    settings = Settings()
    if "database_url" not in settings.model_fields_set:
        return

    async def body() -> None:
        async with command_container(settings) as container, \
                container.sessions.begin() as session:
            await audit.record(session, occurred_at=now, actor="cli", action=action,
                               subject_type="nlu_model", subject_id=version, data=data)

    try:
        run(body)
    except (SQLAlchemyError, OSError) as exc:  # the model is live already: say the log lacks it
        typer.echo(f"{version}: done, but the {action} audit event was not written: {exc}",
                   err=True)
        raise typer.Exit(1) from None

@app.command("promote")
def promote_command(version: str, model_dir: ModelDir = None) -> None:
    """Make a candidate live if it is not worse overall than the live model."""
    _promote(_model_dir(model_dir), version)

@app.command("rollback")
def rollback_command(model_dir: ModelDir = None) -> None:
    """Make the previously live model live again."""
    now = SystemClock().now()
    try:
        version = rollback(_model_dir(model_dir), now=now, by="cli")
    except PromotionRefused as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{version} is live again")
    _audit("nlu_model.rolled_back", version, now, {})

@app.command("models")
def models_command(model_dir: ModelDir = None) -> None:
    """List model versions, newest first; the live one is marked."""
    model_dir = _model_dir(model_dir)
    live = current_version(model_dir)
    versions = list_versions(model_dir)
    if not versions:
        typer.echo(f"No models in {model_dir}. Train one with `parley nlu train`.")
    for meta in versions:
        score = (meta.get("evaluation") or {}).get("macro_f1")
        typer.echo(f"{'*' if meta['version'] == live else ' '} {meta['version']}  "
                   f"data {meta['data_hash'][:12]}  held-out macro F1 "
                   f"{'-' if score is None else f'{score:.4f}'}")

@app.command()
def export(
    out: Annotated[Path | None, typer.Option(
        help=f"YAML file to write \\[default: NLU_TRAINING_DATA/{ACCEPTED_FILE}].")] = None,
) -> None:
    """Write the examples trainers accepted (masked) as Rasa YAML; review it with `git diff`.

    With no accepted example in the database, nothing is written: an empty or different
    database must not wipe a committed file (delete the file by hand to empty it).
    """
    out = out or _data_dir(None) / ACCEPTED_FILE
    examples = _accepted_from_database()
    if not examples:
        kept = f"{out} left unchanged" if out.exists() else "nothing written"
        typer.echo(f"nothing to export: the database has no accepted examples; {kept}")
        return
    try:
        text = to_yaml(examples)
    except ExampleRefused as refused:
        typer.echo(f"not exported ({out} left unchanged): {refused}", err=True)
        raise typer.Exit(1) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {len(examples)} accepted example(s) to {out}")

@app.command()
def evaluate(
    data: DataDir = None,
    folds: Annotated[int, typer.Option(help="Cross-validation folds.")] = 5,
    train_file: Annotated[Path | None, typer.Option(
        "--train", exists=True, help="Train on this file or directory.")] = None,
    test_file: Annotated[Path | None, typer.Option(
        "--test", exists=True, help="Test on this file or directory.")] = None,
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

def _evaluate(data: Path | None, folds: int, train_file: Path | None,
              test_file: Path | None) -> EvaluationReport:
    if train_file is None or test_file is None:
        # A file that does not read is refused, as with --train/--test: scoring the data
        # without it would drop an intent and pass a --fail-under gate. Coverage notes
        # (an entity never annotated, few examples) do not stop an evaluation.
        training, problems = read_training_data(_training_dir(data))
        if problems:
            _print_problems(problems)
            raise typer.Exit(1)
        return cross_validate(training, folds)

    (train_data, train_problems), (test_data, test_problems) = (
        _read_path(train_file), _read_path(test_file))
    problems = [*train_problems, *test_problems]
    if problems:
        _print_problems(problems)
        raise typer.Exit(1)
    return train_test(train_data, test_data)

def _read_path(path: Path) -> tuple[TrainingData, list[Problem]]:
    """One training-data file, or every file under a directory."""
    if path.is_dir():
        return read_training_data(path)
    data = TrainingData()
    return data, read_file(path, data)


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
        typer.echo(f"entity {kind:<13} span F1 {_score(span['f1'])} (n={span['support']})  "
                   f"value F1 {_score(value['f1'])} (n={value['support']})")
    typer.echo(f"{len(report.misclassified)} misclassified")


def _score(f1: float | None) -> str:
    """An F1, or n/a when there was nothing to score."""
    return "n/a" if f1 is None else f"{f1:.3f}"

@app.command()
def parse(
    text: str,
    reference_time: Annotated[str | None, typer.Option(help="ISO time; default now.")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA zone, e.g. America/Bogota.")] = None,
    data: DataDir = None,
    model_dir: ModelDir = None,
) -> None:
    """Parse one message and print Rasa-shaped JSON."""
    if not text.strip():
        raise typer.BadParameter("the message is blank", param_hint="'TEXT'")
    when = _reference_time(reference_time)
    _check_zone(timezone)
    interpreter = build_interpreter(NluConfig(model_dir=_model_dir(model_dir),
                                              data_dir=_data_dir(data)))
    result = asyncio.run(interpreter.parse(text, reference_time=when, timezone=timezone))
    typer.echo(json.dumps(result.to_rasa(), indent=2, ensure_ascii=False))


def _reference_time(given: str | None) -> datetime:
    """--reference-time as an ISO time, else now."""
    if given is None:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(given)
    except ValueError:
        raise typer.BadParameter(f"{given!r} is not an ISO time, e.g. 2026-11-25T10:00:00-05:00",
                                 param_hint="'--reference-time'") from None


def _check_zone(name: str | None) -> None:
    """--timezone must be an IANA zone this machine knows, as POST /model/parse requires."""
    if name is None:
        return
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a directory: OSError
        raise typer.BadParameter(f"unknown timezone {name!r}",
                                 param_hint="'--timezone'") from None
