"""Benchmark: conversation turns per second through the engine (real NLU, real gate), p50/p99.

    .venv/bin/python -m bench.turns_engine                       # SQLite + in-process state
    .venv/bin/python -m bench.turns_engine --postgres --redis    # PostgreSQL + Redis
    .venv/bin/python -m bench.turns_engine --postgres --redis --processes 2   # both cores
    .venv/bin/python -m bench.turns_engine --postgres --redis --count-sql     # statements/turn

With `--processes N` the debtors are split over N processes (each its own engine, pool and
NLU, like N workers), started together; throughput is all turns over the common wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from redis.asyncio import Redis
from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from backend.channels_wiring import install_channels
from backend.container import Container, build_container
from backend.conversations_wiring import install_conversations, nlu_factory
from backend.db.migrate import upgrade
from backend.db.models import Account, Debtor
from backend.services.demo import demo_rows
from backend.services.imports.writer import upsert_accounts
from backend.services.inbox import store_inbound
from backend.settings import Settings
from bot.clock import SettableClock
from bot.engine import Engine
from bot.messages import ConversationKey, InboundMessage

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
BENCH_DB = "parley_bench_turns"
Row = tuple[int, str, str]  # account id, date of birth as typed, postal code


@dataclass
class Slice:
    """What one process measured."""

    latencies: list[float] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    statements: int = 0
    app_cpu: float = 0.0  # this process
    db_cpu: float = 0.0  # every PostgreSQL backend of the run (measured by the first process)


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds each live process has used so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return used


async def backend_pids(url: str) -> list[int]:
    """The PostgreSQL server processes serving connections to `url`'s database."""
    database = make_url(url).database
    conn = await asyncpg.connect(make_url(ADMIN_URL).render_as_string(False))
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two `cpu_seconds` snapshots (new processes count from 0)."""
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


def script(dob: str, postal: str) -> list[str]:
    """One debtor's conversation: verify, ask, negotiate, agree."""
    return ["how much do I owe?", dob, postal, "can I get a payment plan",
            "I can pay 100 a month", "yes", "thanks"]


async def _postgres_url() -> str:
    admin = make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    finally:
        await conn.close()
    return make_url(ADMIN_URL).set(drivername="postgresql+asyncpg",
                                   database=BENCH_DB).render_as_string(False)


def _settings(url: str, redis: bool, models: Path) -> Settings:
    return Settings(_env_file=None, database_url=url,  # type: ignore[call-arg]
                    redis_url=REDIS_URL if redis else None, nlu_model_dir=models)


def _wire(settings: Settings) -> tuple[Container, Engine]:
    container = build_container(settings, SettableClock(NOW))
    container.interpreter = nlu_factory(settings)()
    install_channels(None, container)
    install_conversations(None, container)
    return container, container.services["engine"]


async def _turn(container: Container, engine: Engine, account_id: int, text: str) -> float:
    start = time.perf_counter()
    inbound = InboundMessage(ConversationKey("web", f"account:{account_id}"), text,
                             uuid.uuid4().hex, container.clock.now())
    async with container.sessions.begin() as session:
        stored = await store_inbound(session, inbound, now=container.clock.now())
    await engine.handle(stored.message_id, stored.conversation_id)
    return time.perf_counter() - start


async def _seed(args: argparse.Namespace, url: str, models: Path) -> tuple[int, list[Row]]:
    """Migrate, import the demo debtors, train the NLU once; a warm-up account, the rows."""
    await upgrade(url)
    if args.redis:
        redis = Redis.from_url(REDIS_URL)
        await redis.flushdb()  # state keys are per conversation id, which a new database reuses
        await redis.aclose()
    container, engine = _wire(_settings(url, args.redis, models))
    async with container.sessions.begin() as session:
        await upsert_accounts(session, demo_rows(args.debtors, NOW.date()), NOW)
    async with container.sessions() as session:
        rows = (await session.execute(select(Account.id, Debtor.date_of_birth, Debtor.postal_code)
                                      .join(Debtor, Debtor.id == Account.debtor_id))).all()
    await _turn(container, engine, rows[0][0], "hello")  # warm-up (NLU, caches)
    await container.close()
    return rows[0][0], [(r[0], r[1].strftime("%m/%d/%Y") if r[1] else "", r[2] or "")
                        for r in rows[1:]]


async def _play(args: argparse.Namespace, url: str, models: Path, warm: int, rows: list[Row],
                together: Any, first: bool = True) -> Slice:
    """Play `rows` with `concurrency` debtors at a time in this process.

    `together()` waits for the other processes (once before the start, once after the end),
    so the first one can read every database backend's CPU while all are still connected.
    """
    container, engine = _wire(_settings(url, args.redis, models))
    measured = Slice()
    if args.count_sql:
        def count(*_: Any) -> None:
            measured.statements += 1

        event.listen(container.engine.sync_engine, "before_cursor_execute", count)
    await _turn(container, engine, warm, "hello")  # this process's warm-up (not a player)
    measured.statements = 0
    semaphore = asyncio.Semaphore(args.concurrency)

    async def one(row: Row) -> None:
        async with semaphore:
            for text in script(row[1], row[2]):
                measured.latencies.append(await _turn(container, engine, row[0], text))

    together()
    db_before = cpu_seconds(await backend_pids(url)) if first and args.postgres else {}
    cpu_before = time.process_time()
    measured.started = time.time()
    await asyncio.gather(*(one(r) for r in rows))
    measured.finished = time.time()
    measured.app_cpu = time.process_time() - cpu_before
    together()
    if first and args.postgres:
        measured.db_cpu = cpu_delta(db_before, cpu_seconds(await backend_pids(url)))
    await container.close()
    return measured


def _child(args: argparse.Namespace, url: str, models: Path, warm: int, rows: list[Row],
           barrier: Any, results: Any, first: bool) -> None:
    results.put(_run_loop(_play(args, url, models, warm, rows, barrier.wait, first)))


def _run_loop(main: Any) -> Any:
    """Run on uvloop when installed, as uvicorn does in production."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def run(args: argparse.Namespace) -> None:
    """Seed accounts, then play every debtor's script across `processes` processes."""
    tmp = Path(tempfile.mkdtemp())
    models = tmp / "models"
    url = (asyncio.run(_postgres_url()) if args.postgres
           else f"sqlite+aiosqlite:///{tmp / 'bench.db'}")
    warm, rows = asyncio.run(_seed(args, url, models))
    if args.processes == 1:
        slices = [_run_loop(_play(args, url, models, warm, rows, lambda: None))]
    else:
        ctx = multiprocessing.get_context("spawn")
        barrier, results = ctx.Barrier(args.processes), ctx.Queue()
        procs = [ctx.Process(target=_child, args=(args, url, models, warm,
                                                  rows[i::args.processes], barrier, results,
                                                  i == 0))
                 for i in range(args.processes)]
        for proc in procs:
            proc.start()
        slices = [results.get() for _ in procs]
        for proc in procs:
            proc.join()
    _report(args, slices)


def _report(args: argparse.Namespace, slices: list[Slice]) -> None:
    ordered = sorted(x for s in slices for x in s.latencies)
    elapsed = max(s.finished for s in slices) - min(s.started for s in slices)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    label = ("PostgreSQL" if args.postgres else "SQLite") + (" + Redis" if args.redis else "")
    print(f"{label}: {len(ordered)} turns in {elapsed:.1f}s = {len(ordered) / elapsed:.0f} turns/s,"
          f" p50 {p50:.1f} ms, p99 {p99:.1f} ms (concurrency {args.concurrency} x "
          f"{args.processes} process{'es' if args.processes > 1 else ''})")
    app_ms = sum(s.app_cpu for s in slices) / len(ordered) * 1000
    db_ms = sum(s.db_cpu for s in slices) / len(ordered) * 1000
    print(f"CPU per turn: {app_ms:.1f} ms in the app process(es)"
          + (f" + {db_ms:.1f} ms in PostgreSQL = bound of {2000 / (app_ms + db_ms):.0f} turns/s"
             " on two cores" if args.postgres else ""))
    if args.count_sql:
        statements = sum(s.statements for s in slices)
        print(f"{statements / len(ordered):.1f} SQL statements per turn (inbox store included)")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("--debtors", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16, help="debtors at once, per process")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--count-sql", action="store_true")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
