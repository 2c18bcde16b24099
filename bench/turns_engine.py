"""Benchmark: conversation turns per second through the engine (real NLU, real gate), p50/p99.

    .venv/bin/python -m bench.turns_engine                       # SQLite + in-process state
    .venv/bin/python -m bench.turns_engine --postgres --redis    # PostgreSQL + Redis
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from backend.channels_wiring import install_channels
from backend.container import build_container
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
BENCH_DB = "parley_bench_turns"


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


async def _turn(container, engine: Engine, account_id: int, text: str) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    inbound = InboundMessage(ConversationKey("web", f"account:{account_id}"), text,
                             uuid.uuid4().hex, container.clock.now())
    async with container.sessions.begin() as session:
        stored = await store_inbound(session, inbound, now=container.clock.now())
    await engine.handle(stored.message_id, stored.conversation_id)
    return time.perf_counter() - start


async def _debtor(container, engine, account_id: int, lines: list[str],  # type: ignore[no-untyped-def]
                  latencies: list[float]) -> None:
    for text in lines:
        latencies.append(await _turn(container, engine, account_id, text))


async def run(args: argparse.Namespace) -> None:
    """Seed accounts, then play every debtor's script with `concurrency` debtors at a time."""
    tmp = Path(tempfile.mkdtemp())
    url = await _postgres_url() if args.postgres else f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    await upgrade(url)
    settings = Settings(_env_file=None, database_url=url,  # type: ignore[call-arg]
                        redis_url="redis://127.0.0.1:6379/14" if args.redis else None,
                        nlu_model_dir=tmp / "models")
    container = build_container(settings, SettableClock(NOW))
    container.interpreter = nlu_factory(settings)()
    install_channels(None, container)
    install_conversations(None, container)
    engine: Engine = container.services["engine"]
    async with container.sessions.begin() as session:
        await upsert_accounts(session, demo_rows(args.debtors, NOW.date()), NOW)
    async with container.sessions() as session:
        rows = (await session.execute(select(Account.id, Debtor.date_of_birth, Debtor.postal_code)
                                      .join(Debtor, Debtor.id == Account.debtor_id))).all()
    await _turn(container, engine, rows[0][0], "hello")  # warm-up (NLU, caches)
    latencies: list[float] = []
    started = time.perf_counter()
    semaphore = asyncio.Semaphore(args.concurrency)

    async def one(row) -> None:  # type: ignore[no-untyped-def]
        async with semaphore:
            lines = script(row[1].strftime("%m/%d/%Y"), row[2])
            await _debtor(container, engine, row[0], lines, latencies)

    await asyncio.gather(*(one(r) for r in rows[1:]))
    elapsed = time.perf_counter() - started
    await container.close()
    _report(args, latencies, elapsed)


def _report(args: argparse.Namespace, latencies: list[float], elapsed: float) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    label = ("PostgreSQL" if args.postgres else "SQLite") + (" + Redis" if args.redis else "")
    print(f"{label}: {len(ordered)} turns in {elapsed:.1f}s = {len(ordered) / elapsed:.0f} turns/s,"
          f" p50 {p50:.1f} ms, p99 {p99:.1f} ms (concurrency {args.concurrency})")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("--debtors", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
