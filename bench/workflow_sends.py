"""Benchmark: strategy sends per second through 2 `parley worker` processes to a fake Twilio.

Seeds a portfolio on PostgreSQL (the SQL of bench/workflow_plan.py), plans today's contacts of
the default strategy, starts the worker processes (every capability installed, as `parley
worker` does; SAQ over Redis; the compliance gate decides at the moment of sending; the real
Twilio SDK posts to a fake Twilio on 127.0.0.1), enqueues the due contacts and times until
every job has finished. Prints sends/s, the contacts' outcomes, and lost and doubled counts.

    python -m bench.workflow_sends [--accounts 20000] [--workers 2] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from saq.queue.redis import RedisQueue
from sqlalchemy import func, select

from backend.container import build_container
from backend.db.migrate import upgrade
from backend.db.models import PlannedContact
from backend.settings import Settings
from backend.workflow import jobs
from backend.workflow.context import WorkflowContext, from_container
from backend.workflow.saq_runner import SaqRunner
from backend.workflow.store import activate, save_version
from backend.workflow.strategy import DEFAULT_STRATEGY_PATH, load_strategy_file
from backend.workflow.worker import install_for_worker
from bench.workflow_plan import fresh_db, seed
from bot.clock import SettableClock
from nlu.runtime import NluConfig, build_interpreter
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, fake_twilio

# 13:30 in New York, 10:30 in Los Angeles: inside every step's window and the gate's hours.
SEND_AT = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)
QUEUE = "parley-bench-sends"
OPEN = ("planned", "queued")


def _settings(database_url: str, redis_url: str, twilio_url: str, model_dir: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        parley_env="test", database_url=database_url, redis_url=redis_url,
        nlu_model_dir=Path(model_dir), twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN, twilio_api_url=twilio_url, twilio_sms_from="+12125550100",
    )


def _worker_process(settings: Settings, concurrency: int, ready: Any) -> None:
    asyncio.run(_worker(settings, concurrency, ready))


async def _worker(settings: Settings, concurrency: int, ready: Any) -> None:
    """What `parley worker` runs, on a clock fixed at SEND_AT and without cron jobs."""
    container = build_container(settings, SettableClock(SEND_AT))
    await install_for_worker(container)
    queue = RedisQueue.from_url(settings.redis_url or "", name=QUEUE)
    worker = SaqRunner(from_container(container), queue).worker(concurrency, cron=False)
    ready.set()
    await worker.start()


async def _prepare(url: str, accounts: int, settings: Settings) -> list[int]:
    await upgrade(url)
    await seed(url, accounts)
    container = build_container(settings, SettableClock(SEND_AT))
    try:
        async with container.sessions.begin() as session:
            loaded = await save_version(session, load_strategy_file(DEFAULT_STRATEGY_PATH),
                                        source="", actor="bench", now=SEND_AT)
            await activate(session, loaded.strategy_id, loaded.version, actor="bench",
                           now=SEND_AT)
        ctx = _planning_context(container)
        await jobs.lifecycles(ctx)
        await jobs.plan(ctx)
        return await jobs.due_contacts(ctx, 10_000_000)
    finally:
        await container.close()


async def _enqueue_and_wait(settings: Settings, due: list[int]) -> float:
    container = build_container(settings, SettableClock(SEND_AT))
    queue = RedisQueue.from_url(settings.redis_url or "", name=QUEUE, max_concurrent_ops=100)
    await queue.redis.flushdb()
    runner = SaqRunner(_planning_context(container), queue)
    started = time.perf_counter()
    await asyncio.gather(*(runner._enqueue(cid) for cid in due))  # noqa: SLF001
    try:
        while True:
            async with container.sessions() as session:
                left = await session.scalar(select(func.count(PlannedContact.id)).where(
                    PlannedContact.id.in_(due), PlannedContact.status.in_(OPEN)))
            if not left:
                return time.perf_counter() - started
            await asyncio.sleep(0.2)
    finally:
        await queue.disconnect()
        await container.close()


def _planning_context(container: Any) -> WorkflowContext:
    """Enough of a context to plan and enqueue: the parent process sends nothing."""

    async def no_send(_ids: list[int]) -> None:
        return None

    return WorkflowContext(sessions=container.sessions, clock=container.clock,
                           outbox=None, deliver=no_send)  # type: ignore[arg-type]


async def _outcomes(settings: Settings, due: list[int]) -> Counter[str]:
    container = build_container(settings, SettableClock(SEND_AT))
    try:
        async with container.sessions() as session:
            rows = await session.execute(
                select(PlannedContact.status, func.count()).where(PlannedContact.id.in_(due))
                .group_by(PlannedContact.status))
            return Counter({status: count for status, count in rows.all()})
    finally:
        await container.close()


def main(args: argparse.Namespace) -> None:
    """Seed, plan, start the workers, enqueue, time, report."""
    twilio = fake_twilio()
    model_dir = tempfile.mkdtemp(prefix="parley-bench-nlu-")
    build_interpreter(NluConfig(model_dir=Path(model_dir), data_dir=Path("nlu/training_data")))
    url = asyncio.run(fresh_db(args.admin_url))
    settings = _settings(url, args.redis_url, twilio.base, model_dir)
    due = asyncio.run(_prepare(url, args.accounts, settings))
    print(f"{args.accounts:,} accounts; {len(due):,} contacts due at {SEND_AT:%H:%M} UTC",
          flush=True)
    context = mp.get_context("spawn")
    ready = [context.Event() for _ in range(args.workers)]
    workers = [context.Process(target=_worker_process, args=(settings, args.concurrency, r))
               for r in ready]
    for process in workers:
        process.start()
    for event in ready:
        event.wait(120)
    try:
        seconds = asyncio.run(_enqueue_and_wait(settings, due))
    finally:
        for process in workers:
            process.terminate()
            process.join(10)
    outcomes = asyncio.run(_outcomes(settings, due))
    calls = twilio.calls("/Messages.json")
    doubled = len(calls) - outcomes["sent"]  # each sent contact is exactly one Twilio call
    lost = sum(outcomes[s] for s in OPEN)
    twilio.stop()
    print(f"{args.workers} workers x concurrency {args.concurrency}: {len(due):,} contacts in "
          f"{seconds:.1f} s = {len(due) / seconds:.0f} contacts/s; {len(calls):,} SMS to Twilio "
          f"= {len(calls) / seconds:.0f} sends/s")
    print(f"outcomes {dict(outcomes)}; lost {lost}; doubled {doubled}")


def cli() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    return parser.parse_args()


if __name__ == "__main__":
    main(cli())
