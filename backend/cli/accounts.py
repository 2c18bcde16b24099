"""`parley accounts`: import a CSV of accounts, or write the template with every column."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from backend.cli.runtime import command_container, run
from backend.db.migrate import upgrade
from backend.services.imports.columns import COLUMNS, write_template
from backend.services.imports.reader import NotUtf8
from backend.services.imports.service import ImportReport, import_accounts

app = typer.Typer(help="Get accounts in: import a CSV, or write the CSV template.")


@app.command("template")
def template(path: Annotated[Path, typer.Argument(help="where to write the CSV")]) -> None:
    """Write a CSV with every documented column and a few example rows."""
    write_template(path)
    typer.echo(f"wrote {path} ({len(COLUMNS)} columns)")
    for column in COLUMNS:
        typer.echo(
            f"  {column.name:<20} {'required' if column.required else 'optional':<9}"
            f" {column.meaning}"
        )


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="accounts CSV")],
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid", help="write the valid rows; rejected rows go to an error CSV"
        ),
    ] = False,
    errors: Annotated[
        Path | None, typer.Option(help="error CSV path (default: FILE.errors.csv)")
    ] = None,
) -> None:
    """Upsert accounts by (creditor, external_ref); re-importing a file creates nothing twice.

    Rows that match an existing account count as updated: their debtor, contacts, portfolio
    and due date are written again; their balances stay the ledger's.

    Every invalid row is reported with its row number, column and reason. By default nothing
    is written when any row is invalid.
    """
    error_csv = errors or path.with_suffix(".errors.csv")
    try:
        rows = _data_rows(path)
    except UnicodeDecodeError as exc:
        # Counting reads the whole file, so a file that is not UTF-8 stops here, unwritten.
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(1) from None

    async def body() -> int:
        async with command_container() as container:
            await upgrade(container.settings.database_url)
            with _progress() as progress:
                task = progress.add_task("importing", total=rows)
                with path.open(encoding="utf-8-sig", newline="") as handle:
                    report, _ = await import_accounts(
                        container.sessions,
                        handle,
                        now=container.clock.now(),
                        actor="cli",
                        skip_invalid=skip_invalid,
                        error_csv=error_csv if skip_invalid else None,
                        progress=lambda n: progress.advance(task, n),
                    )
        for error in report.errors[:200]:
            typer.echo(f"{path}: {error}", err=True)
        if len(report.errors) > 200:
            typer.echo(f"... and {len(report.errors) - 200} more errors", err=True)
        if not report.written:
            typer.echo(_why_nothing_written(report), err=True)
            return 1
        typer.echo(
            f"{report.total} rows: {report.created} created, {report.updated} updated, "
            f"{report.rejected_rows} rejected"
        )
        if report.rejected_rows:
            typer.echo(f"rejected rows written to {error_csv}")
        return 0

    raise typer.Exit(run(body))


def _why_nothing_written(report: ImportReport) -> str:
    if report.total == 0:  # the header was refused: no row was read
        return "nothing written: the file has no usable header row (see the errors above)"
    return (f"nothing written: {report.rejected_rows} invalid row(s) of {report.total}"
            " (fix them, or use --skip-invalid)")


def _data_rows(path: Path) -> int:
    """The data rows of the file (lines less the header); NotUtf8 names the first bad line."""
    lines = 0
    with path.open("rb") as handle:
        for lines, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")  # a character never spans two lines
            except UnicodeDecodeError as exc:
                raise NotUtf8(exc, lines) from None
    return max(0, lines - 1)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )
