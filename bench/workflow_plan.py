"""Benchmark: plan one day of the default strategy over 1,000,000 accounts on PostgreSQL.

Prints wall time and peak memory of each phase: bulk data creation (generate_series), the
lifecycle pass, planning (segmentation + stop rules + INSERT ... SELECT), gate decisions on a
sample of the day's contacts, and enqueueing the day's send jobs on SAQ/Redis.

    python bench/workflow_plan.py [--accounts 1000000] [--admin-url ...] [--redis-url ...]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
from saq.queue.redis import RedisQueue
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from backend.db.engine import build_engine, build_sessionmaker
from backend.db.migrate import upgrade
from backend.db.models import PlannedContact
from backend.services.compliance.rules import load_rules
from backend.services.compliance.service import ComplianceGate
from backend.workflow import jobs
from backend.workflow.context import WorkflowContext
from backend.workflow.saq_runner import SaqRunner
from backend.workflow.store import activate, save_version
from backend.workflow.strategy import DEFAULT_STRATEGY_PATH, load_strategy_file
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage, Purpose

BENCH_DB = "parley_bench_workflow"
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
TARGET_SECONDS = 60.0
GATE_SAMPLE = 2000

ZONES = "ARRAY['America/New_York','America/Los_Angeles','America/Chicago','America/Denver']"
REGIONS = "ARRAY['NY','CA','TX','CO']"
SEED_SQL = [
    "INSERT INTO creditor (id, name, created_at) VALUES (1, 'Bench Bank', $1)",
    "INSERT INTO portfolio (id, creditor_id, name, policy, policy_version, created_at) "
    "VALUES (1, 1, 'Bench', '{}', 1, $1)",
    f"""INSERT INTO debtor (id, full_name, region, country, timezone, preferred_language,
        created_at)
        SELECT g, 'Debtor ' || g, ({REGIONS})[1 + g % 4], 'US', ({ZONES})[1 + g % 4],
               CASE WHEN g % 10 = 0 THEN 'es' ELSE 'en' END, $1
        FROM generate_series(1, $2::int) g""",
    """INSERT INTO contact_point (debtor_id, channel, address, consent, opted_out_at,
        wrong_party, created_at)
        SELECT g, 'sms', '+1212' || lpad(g::text, 7, '0'), true,
               CASE WHEN g % 50 = 0 THEN $1::timestamptz END, false, $1
        FROM generate_series(1, $2::int) g""",
    """INSERT INTO account (id, creditor_id, portfolio_id, debtor_id, external_ref, currency,
        original_balance, current_balance, due_date, status, dispute, cease, attorney,
        bankruptcy, deceased, hardship, created_at, updated_at)
        SELECT g, 1, 1, g, 'B' || g, 'USD', 100 + g % 5000, 100 + g % 5000,
               $1::timestamptz::date - (g % 160 - 10), 'active', g % 500 = 0, g % 997 = 0,
               false, false, false, false, $1, $1
        FROM generate_series(1, $2::int) g""",
    """INSERT INTO promise (account_id, amount, due_date, status, paid_amount, created_at)
        SELECT g, 50, $1::timestamptz::date + (g % 7 - 3), 'pending', 0, $1
        FROM generate_series(1, $2::int, 97) g""",
    "SELECT setval(pg_get_serial_sequence('account', 'id'), (SELECT max(id) FROM account))",
    "SELECT setval(pg_get_serial_sequence('debtor', 'id'), (SELECT max(id) FROM debtor))",
]


def peak_mb() -> float:
    """This process's peak RSS so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(label: str, started: float, extra: str = "") -> float:
    """Print one phase's figures; returns its wall seconds."""
    seconds = time.perf_counter() - started
    print(f"{label:<34} {seconds:8.2f} s   peak RSS {peak_mb():6.0f} MB   {extra}", flush=True)
    return seconds


async def fresh_db(admin_url: str) -> str:
    """Drop and create the bench database; return its async URL."""
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    finally:
        await conn.close()
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=BENCH_DB)
    return url.render_as_string(hide_password=False)


async def seed(url: str, accounts: int) -> None:
    """Bulk-create the portfolio in SQL (no Python loop over rows)."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        for sql in SEED_SQL:
            params: list[Any] = [NOW, accounts] if "$2" in sql else [NOW] if "$1" in sql else []
            await conn.execute(sql, *params)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def gate_sample(ctx: WorkflowContext, gate: ComplianceGate) -> tuple[int, dict[str, int]]:
    """Gate previews for a sample of today's contacts (the sender's first decision)."""
    decisions: dict[str, int] = {}
    async with ctx.sessions() as session:
        rows = (await session.execute(
            select(PlannedContact.account_id, PlannedContact.due_at)
            .where(PlannedContact.status == "planned").limit(GATE_SAMPLE))).all()
        for account_id, due_at in rows:
            address = f"+1212{account_id:07d}"
            outbound = OutboundMessage(ConversationKey("sms", address), "x STOP",
                                       purpose=Purpose.REMINDER, account_id=account_id)
            decision = await gate.preview(session, outbound, None, due_at)
            decisions[decision.status] = decisions.get(decision.status, 0) + 1
    return len(rows), decisions


async def main(args: argparse.Namespace) -> None:
    url = await fresh_db(args.admin_url)
    await upgrade(url)
    started = time.perf_counter()
    await seed(url, args.accounts)
    report(f"create {args.accounts:,} accounts (SQL)", started)
    engine = build_engine(url)
    sessions = build_sessionmaker(engine)
    clock = SettableClock(NOW)
    gate = ComplianceGate(load_rules())

    async def no_send(_ids: list[int]) -> None:
        return None

    ctx = WorkflowContext(sessions=sessions, clock=clock, outbox=None,  # type: ignore[arg-type]
                          deliver=no_send, gate=gate)
    async with sessions.begin() as session:
        loaded = await save_version(session, load_strategy_file(DEFAULT_STRATEGY_PATH),
                                    source="", actor="bench", now=NOW)
        await activate(session, loaded.strategy_id, loaded.version, actor="bench", now=NOW)
    started = time.perf_counter()
    life = await jobs.lifecycles(ctx)
    lifecycle_s = report("lifecycles (promises, plans)", started, f"{vars(life)}")
    started = time.perf_counter()
    plan = await jobs.plan(ctx)
    plan_s = report("plan one day (segment+stops+insert)", started,
                    f"{plan.total:,} contacts {plan.planned}")
    started = time.perf_counter()
    again = await jobs.plan(ctx)
    report("plan again (idempotent)", started, f"{again.total} new")
    started = time.perf_counter()
    sampled, decisions = await gate_sample(ctx, gate)
    gate_s = report(f"gate previews ({sampled} sampled)", started, f"{decisions}")
    per_decision = gate_s / max(sampled, 1)
    clock.set(NOW.replace(hour=23, minute=59))  # every contact of the day is due
    enqueue_s = 0.0
    if args.redis_url:
        queue = RedisQueue.from_url(args.redis_url, name="parley-bench", max_concurrent_ops=100)
        runner = SaqRunner(ctx, queue)
        started = time.perf_counter()
        due = await runner.enqueue_due(limit=10_000_000)
        enqueue_s = report("enqueue the day's send jobs (SAQ)", started, f"{len(due):,} jobs")
        await queue.redis.flushdb()
        await queue.disconnect()
    async with sessions() as session:
        total = await session.scalar(select(func.count(PlannedContact.id)))
    gate_all = per_decision * (total or 0)
    budget = lifecycle_s + plan_s + enqueue_s
    print(f"\nplanning total (lifecycles + plan + enqueue): {budget:.2f} s "
          f"(target ≤ {TARGET_SECONDS:.0f} s); gate decisions for all {total:,} contacts "
          f"≈ {gate_all:.1f} s at {1000 * per_decision:.2f} ms each (made at send time, "
          f"spread over the day's workers)")
    await engine.dispose()


def cli() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(cli()))
