"""Benchmark: import 100,000 CSV accounts into SQLite and PostgreSQL (rows/s, peak memory)."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import os
import platform
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from backend.db.engine import build_engine, build_sessionmaker
from backend.db.migrate import upgrade
from backend.services.demo import DEMO_MAX_ACCOUNTS, demo_rows
from backend.services.imports.columns import COLUMN_NAMES
from backend.services.imports.rows import AccountRow
from backend.services.imports.service import ImportReport, import_accounts

DEFAULT_ROWS = 100_000
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "parley_bench"
TARGET_ROWS_PER_SECOND = 20_000
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Measure:
    """One timed import: what it did, wall and CPU seconds, the process's peak RSS after it.

    `load` is the 1-minute load average when it started: the machine is shared, so a figure
    means little without it.
    """

    label: str
    report: ImportReport
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    load: float

    def line(self) -> str:
        """The figure as one printable line."""
        rate = self.report.total / self.seconds if self.seconds else 0.0
        return (
            f"{self.label:<20} {self.report.total:>7} rows  {self.seconds:6.2f} s "
            f"(Python CPU {self.cpu_seconds:5.2f} s)  "
            f"{rate:>8,.0f} rows/s  created {self.report.created:>6}  "
            f"updated {self.report.updated:>6}  peak RSS {self.peak_rss_mb:6.0f} MB  "
            f"load {self.load:.2f}"
        )


def csv_record(row: AccountRow, rng: random.Random) -> dict[str, str]:
    """A demo row as an operator's CSV line: varied phone formats, some emails, some zones."""
    # demo_rows draws from 100 fictional numbers per area code; real files are mostly unique.
    area = row.phone[2:5] if row.phone else "212"
    digits = f"{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    phone = rng.choice(
        (f"({digits[:3]}) {digits[3:6]}-{digits[6:]}", f"+1 {digits}", f"{digits[:3]}-{digits[3:]}")
    )
    first, last = row.debtor_name.split(" ", 1)
    email = f"{first}.{last}.{row.row}@example.com".lower() if rng.random() < 0.4 else ""
    return {
        "external_ref": row.external_ref,
        "creditor": row.creditor,
        "portfolio": row.portfolio,
        "debtor_name": row.debtor_name,
        "phone": phone,
        "email": email,
        "date_of_birth": row.date_of_birth.isoformat() if row.date_of_birth else "",
        "postal_code": row.postal_code or "",
        "state": row.region or "",
        "country": row.country,
        "timezone": row.timezone if rng.random() < 0.5 else "",
        "currency": row.currency,
        "balance": f"{row.balance:.2f}",
        "original_balance": f"{row.original_balance:.2f}",
        "due_date": row.due_date.isoformat(),
        "preferred_language": row.preferred_language,
    }


def write_csv(path: Path, count: int) -> None:
    """Write `count` valid account rows with unique references to `path`."""
    rng = random.Random(2026)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMN_NAMES)
        writer.writeheader()
        writer.writerows(csv_record(r, rng) for r in bench_rows(count))


def bench_rows(count: int) -> Iterator[AccountRow]:
    """`count` demo rows with unique references: the demo draws at most DEMO_MAX_ACCOUNTS at a
    time (one fictional phone each; the CSV gets its own numbers), so it is drawn in batches."""
    for batch, start in enumerate(range(0, count, DEMO_MAX_ACCOUNTS)):
        size = min(DEMO_MAX_ACCOUNTS, count - start)
        for offset, row in enumerate(demo_rows(size, NOW.date(), seed=7 + batch)):
            index = start + offset
            prefix = row.external_ref.split("-")[0]
            yield replace(row, row=index + 2, external_ref=f"{prefix}-{100000 + index}")


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def timed_import(label: str, database_url: str, path: Path) -> Measure:
    """Import `path` the way `parley accounts import` does, timing the whole call."""
    engine = build_engine(database_url)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            load = os.getloadavg()[0]
            started, cpu_started = time.perf_counter(), time.process_time()
            report, _ = await import_accounts(
                build_sessionmaker(engine), handle, now=NOW, actor="bench"
            )
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
    finally:
        await engine.dispose()
    if not report.written:
        raise SystemExit(f"{label}: nothing written: {report.errors[:5]}")
    return Measure(label, report, seconds, cpu_seconds, peak_rss_mb(), load)


def _admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin_execute(admin_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(_admin_dsn(admin_url))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_postgres(admin_url: str) -> AsyncIterator[str]:
    """A freshly created and migrated `parley_bench` database, dropped afterwards."""
    drop = f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'
    await _admin_execute(admin_url, drop, f'CREATE DATABASE "{BENCH_DB}"')
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=BENCH_DB)
    rendered = url.render_as_string(hide_password=False)
    try:
        await upgrade(rendered)
        yield rendered
    finally:
        await _admin_execute(admin_url, drop)


@asynccontextmanager
async def fresh_sqlite(directory: Path) -> AsyncIterator[str]:
    """A freshly migrated SQLite file in `directory`."""
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    await upgrade(url)
    yield url


async def run_target(target: str, path: Path) -> list[Measure]:
    """First import into an empty database, then the idempotent re-import."""
    with tempfile.TemporaryDirectory(prefix="parley-bench-db-") as tmp:
        if target == "sqlite":
            database = fresh_sqlite(Path(tmp))
        else:
            database = fresh_postgres(os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL))
        async with database as url:
            first = await timed_import(f"{target} import", url, path)
            again = await timed_import(f"{target} re-import", url, path)
    return [first, again]


def run_child(target: str, path: Path, profile: Path | None) -> None:
    """Measure one target in this (fresh) process, so peak memory is its own."""
    baseline = peak_rss_mb()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    measures = asyncio.run(run_target(target, path))
    if profiler and profile:
        profiler.disable()
        profiler.dump_stats(profile)
        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(25)
    print(f"{target}: peak RSS before importing {baseline:.0f} MB")
    for measure in measures:
        print(measure.line())
    _check(target, measures)


def _check(target: str, measures: list[Measure]) -> None:
    first, again = measures
    total = first.report.total
    if (first.report.created, again.report.created, again.report.updated) != (total, 0, total):
        raise SystemExit(f"{target}: re-import was not idempotent: {again.report}")
    rate = total / first.seconds
    if target == "postgres" and rate < TARGET_ROWS_PER_SECOND:
        print(f"postgres import below target: {rate:,.0f} < {TARGET_ROWS_PER_SECOND:,} rows/s")


def run_parent(rows: int, targets: list[str], profile: bool) -> int:
    """Generate the CSV once, then measure each target in its own process."""
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    print(f"machine: {machine}")
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        path = Path(tmp) / "accounts.csv"
        # Each step runs in its own process: Linux carries the peak RSS across fork + exec.
        if _run_self("--generate", str(rows), "--csv", str(path)):
            return 1
        for target in targets:
            command = ["--child", target, "--csv", str(path)]
            if profile:
                command += ["--profile", str(Path(tmp) / f"{target}.prof")]
            if _run_self(*command):
                return 1
    return 0


def _run_self(*arguments: str) -> int:
    return subprocess.run([sys.executable, __file__, *arguments], check=False).returncode


def generate(rows: int, path: Path) -> None:
    """Write the benchmark CSV and say how big it is."""
    started = time.perf_counter()
    write_csv(path, rows)
    print(f"generated {rows} rows ({path.stat().st_size / 1e6:.1f} MB) in "
          f"{time.perf_counter() - started:.1f} s")


def main() -> int:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--only", choices=("sqlite", "postgres"), action="append")
    parser.add_argument("--profile", nargs="?", const="1", help="print a cProfile summary")
    parser.add_argument("--child", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.csv)
        return 0
    if args.child:
        run_child(args.child, args.csv, Path(args.profile) if args.profile else None)
        return 0
    return run_parent(args.rows, args.only or ["sqlite", "postgres"], bool(args.profile))


if __name__ == "__main__":
    sys.exit(main())
