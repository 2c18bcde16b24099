"""Inbound SMS end to end under load: uvicorn workers, PostgreSQL + Redis, the real engine and NLU.

    .venv/bin/python -m bench.webhooks_sms [--debtors 300] [--concurrency 150] [--workers 2]

The app (NLU, console's handoffs, channels, conversations) runs in `--workers` uvicorn
processes; this process is the load generator and the fake Twilio REST API (aiohttp on
127.0.0.1). Seeded debtors text their script (verify, balance, plan, agree) by signed Twilio
webhooks, each line after the bot's reply to the previous one (plus a short pause), and one
message in ten is delivered twice. Measured: webhook latency (the ack), end-to-end latency
(webhook sent → reply received by the fake Twilio), messages/s, and from the database: lost
(stored but never processed, or never stored) and doubled (a turn run twice, a reply sent twice).
The debtors' phones and zones are chosen where it is daytime, so quiet hours do not hold replies.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from aiohttp import web
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from backend.api.app import create_app
from backend.channels_wiring import install_channels
from backend.console_wiring import install_console
from backend.container import build_container
from backend.conversations_wiring import install_conversations, nlu_factory
from backend.db.migrate import upgrade
from backend.db.models import AuditEvent, ContactPoint, Debtor, Message
from backend.nlu_wiring import install_nlu
from backend.services.demo import demo_rows
from backend.services.imports.writer import upsert_accounts
from backend.settings import Settings
from bench.turns_engine import backend_pids, cpu_delta, cpu_seconds

BASE = "https://parley.example.com"
ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "parley_bench_sms"
REDIS_URL = "redis://127.0.0.1:6379/13"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
SENDER = "+12125550100"
THINK_SECONDS = 0.05  # between a reply and the debtor's next line (lets a turn's replies land)
REPLY_TIMEOUT = 3.0  # some turns rightly say nothing ("thanks" after agreeing)
# (phone prefix, zone): valid numbers whose prefix maps to that one zone.
ZONES = (("+8131234", "Asia/Tokyo"), ("+9198123", "Asia/Calcutta"), ("+3314200", "Europe/Paris"),
         ("+1212555", "America/New_York"), ("+1415555", "America/Los_Angeles"),
         ("+6121234", "Australia/Sydney"))


def served_app() -> FastAPI:
    """The app each uvicorn worker serves (settings from the environment the bench sets)."""
    settings = Settings()  # type: ignore[call-arg]
    return create_app(settings, migrate=False, run_jobs=False, extensions=(
        install_nlu, install_console, install_channels, install_conversations))


def script(dob: str, postal: str) -> list[str]:
    """One debtor's conversation: ask, verify, negotiate, agree."""
    return ["how much do I owe?", dob, postal, "can I get a payment plan",
            "I can pay 100 a month", "yes", "thanks"]


def daytime_zone(now: datetime) -> tuple[str, str]:
    """A (prefix, zone) where it is between 09:00 and 18:00 now (well inside 08:00-21:00)."""
    for prefix, zone in ZONES:
        if 9 <= now.astimezone(ZoneInfo(zone)).hour < 18:
            return prefix, zone
    raise RuntimeError("no daytime zone in ZONES")


@dataclass
class Load:
    """What the load generator saw."""

    webhook: list[float] = field(default_factory=list)
    end_to_end: list[float] = field(default_factory=list)
    sent: int = 0
    duplicates: int = 0
    no_reply: int = 0
    non_200: int = 0


class FakeTwilio:
    """POST …/Messages.json answered 201 with a fresh SM sid; wakes whoever waits on `To`."""

    def __init__(self) -> None:
        self.requests = 0
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self._sids = itertools.count(1)

    async def messages(self, request: web.Request) -> web.Response:
        form = dict(parse_qsl((await request.read()).decode(), keep_blank_values=True))
        self.requests += 1
        waiter = self.waiting.pop(form.get("To", ""), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(time.perf_counter())
        return web.json_response(status=201, data={
            "sid": f"SM{next(self._sids):032d}", "status": "queued", "to": form.get("To"),
            "from": form.get("From"), "body": form.get("Body"), "account_sid": ACCOUNT_SID})

    async def start(self) -> tuple[web.AppRunner, str]:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self.messages)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        return runner, f"http://127.0.0.1:{port}"


async def _database() -> str:
    admin = make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    finally:
        await conn.close()
    return make_url(ADMIN_URL).set(drivername="postgresql+asyncpg",
                                   database=BENCH_DB).render_as_string(False)


async def _seed(settings: Settings, debtors: int) -> list[tuple[str, list[str]]]:
    """Debtors with unique daytime phones; (phone, script) for each."""
    now = datetime.now(UTC)
    prefix, zone = daytime_zone(now)
    rows = [replace(r, phone=f"{prefix}{i:04d}", timezone=zone)
            for i, r in enumerate(demo_rows(debtors, now.date()))]
    container = build_container(settings)
    async with container.sessions.begin() as session:
        await upsert_accounts(session, rows, now)
    async with container.sessions() as session:
        found = (await session.execute(
            select(ContactPoint.address, Debtor.date_of_birth, Debtor.postal_code)
            .join(Debtor, Debtor.id == ContactPoint.debtor_id)
            .where(ContactPoint.channel == "sms").order_by(ContactPoint.address))).all()
    await container.close()
    return [(phone, script(dob.strftime("%m/%d/%Y") if dob else "", postal or ""))
            for phone, dob, postal in found]


def _form(n: int, phone: str, text: str) -> dict[str, Any]:
    form = {"MessageSid": f"SMbench{n:027d}", "From": phone, "To": SENDER, "Body": text,
            "FromCity": "", "NumMedia": "0"}
    sig = RequestValidator(AUTH_TOKEN).compute_signature(BASE + "/webhooks/twilio/sms", form)
    return {"url": "/webhooks/twilio/sms", "content": urlencode(form),
            "headers": {"X-Twilio-Signature": sig,
                        "Content-Type": "application/x-www-form-urlencoded"}}


async def _debtor(client: httpx.AsyncClient, fake: FakeTwilio, phone: str, lines: list[str],
                  ids: itertools.count[int], load: Load) -> None:
    loop = asyncio.get_running_loop()
    for text in lines:
        n = next(ids)
        request = _form(n, phone, text)
        waiter: asyncio.Future[float] = loop.create_future()
        fake.waiting[phone] = waiter
        started = time.perf_counter()
        posts = [client.post(**request)]
        if n % 10 == 0:  # the provider delivers this one twice
            posts.append(client.post(**request))
            load.duplicates += 1
        responses = await asyncio.gather(*posts)
        load.webhook.append(time.perf_counter() - started)
        load.non_200 += sum(r.status_code != 200 for r in responses)
        load.sent += 1
        try:
            load.end_to_end.append(await asyncio.wait_for(waiter, REPLY_TIMEOUT) - started)
        except TimeoutError:
            load.no_reply += 1
            fake.waiting.pop(phone, None)
        await asyncio.sleep(THINK_SECONDS)


async def _wait_ready(client: httpx.AsyncClient, server: asyncio.subprocess.Process) -> None:
    for _ in range(600):
        if server.returncode is not None:
            raise RuntimeError("the app exited during start-up")
        try:
            if (await client.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("the app did not start")


async def _settle(settings: Settings, expected: int, first_id: int, patience: float = 60.0
                  ) -> dict[str, Any]:
    """Wait until every inbound is processed and nothing waits to be sent; count the outcome."""
    container = build_container(settings)
    deadline = time.monotonic() + patience
    async with container.sessions() as session:
        while True:
            unprocessed = await session.scalar(select(func.count(Message.id)).where(
                Message.direction == "inbound", Message.processed_at.is_(None)))
            unsent = await session.scalar(select(func.count(Message.id)).where(
                Message.direction == "outbound", Message.delivery_status.in_(("pending", "queued")),
                Message.provider_message_id.is_(None)))
            await session.rollback()
            if (unprocessed == 0 and unsent == 0) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        window = (await session.execute(select(
            func.min(Message.created_at), func.max(Message.processed_at), func.count(Message.id))
            .where(Message.direction == "inbound", Message.id > first_id))).one()
        turns = select(AuditEvent.subject_id).where(AuditEvent.action == "turn").group_by(
            AuditEvent.subject_id).having(func.count() > 1).subquery()
        counts = {
            "inbound": await session.scalar(select(func.count(Message.id))
                                            .where(Message.direction == "inbound")),
            "unprocessed": unprocessed or 0,
            "turns_twice": await session.scalar(select(func.count()).select_from(turns)),
            "replies_stored": await session.scalar(select(func.count(Message.id)).where(
                Message.direction == "outbound", Message.provider_message_id.is_not(None))),
            "replies_held": await session.scalar(select(func.count(Message.id)).where(
                Message.direction == "outbound",
                Message.delivery_status.in_(("deferred", "blocked")))),
        }
    await container.close()
    served = (window[1] - window[0]).total_seconds() if window[1] else float("nan")
    return {k: int(v or 0) for k, v in counts.items()} | {
        "expected": expected, "served_rate": window[2] / served}


async def _last_inbound_id(settings: Settings) -> int:
    container = build_container(settings)
    async with container.sessions() as session:
        found = await session.scalar(select(func.max(Message.id)))
    await container.close()
    return int(found or 0)


async def run(args: argparse.Namespace) -> None:
    """Seed, start the fake Twilio and the app, play the debtors, report."""
    url = await _database()
    await upgrade(url)
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()
    tmp = Path(tempfile.mkdtemp())
    fake = FakeTwilio()
    runner, fake_url = await fake.start()
    env = {"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "PUBLIC_BASE_URL": BASE,
           "SECRET_KEY": "bench-secret-" + "x" * 32, "PARLEY_ENV": "test", "DEMO_SEED": "false",
           "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_API_URL": fake_url, "TWILIO_SMS_FROM": SENDER,
           "NLU_MODEL_DIR": str(tmp / "models"), "LOG_LEVEL": "WARNING"}
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in env.items()})  # type: ignore[arg-type,call-arg]
    await asyncio.to_thread(nlu_factory(settings))  # train once; the workers load the model
    debtors = await _seed(settings, args.debtors + 10)
    warm, debtors = debtors[:10], debtors[10:]
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "--factory", "bench.webhooks_sms:served_app",
        "--host", "127.0.0.1", "--port", str(args.port), "--workers", str(args.workers),
        "--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "120",
        env={**os.environ, **env}, cwd=ROOT)
    load = Load()
    try:
        limits = httpx.Limits(max_connections=args.concurrency * 2,
                              max_keepalive_connections=args.concurrency * 2)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{args.port}", limits=limits,
                                     timeout=30.0) as client:
            await _wait_ready(client, server)
            ids = itertools.count(1)
            await asyncio.gather(*(_debtor(client, fake, p, lines[:2], ids, Load())
                                   for p, lines in warm))  # both workers load and warm up
            semaphore = asyncio.Semaphore(args.concurrency)

            async def one(phone: str, lines: list[str]) -> None:
                async with semaphore:
                    await _debtor(client, fake, phone, lines, ids, load)

            first_id = await _last_inbound_id(settings)
            workers = _children(server.pid)
            cpu_before = cpu_seconds([*workers, *await backend_pids(url)])
            own_before = time.process_time()
            started = time.perf_counter()
            await asyncio.gather(*(one(p, lines) for p, lines in debtors))
            elapsed = time.perf_counter() - started
        counts = await _settle(settings, load.sent + 20, first_id)
        cpu_after = cpu_seconds([*workers, *await backend_pids(url)])
        counts["cpu"] = {
            "workers": cpu_delta({p: cpu_before.get(p, 0.0) for p in workers},
                                 {p: v for p, v in cpu_after.items() if p in workers}),
            "postgres": cpu_delta({p: v for p, v in cpu_before.items() if p not in workers},
                                  {p: v for p, v in cpu_after.items() if p not in workers}),
            "generator": time.process_time() - own_before,
        }
    finally:
        server.send_signal(signal.SIGINT)
        await asyncio.wait_for(server.wait(), 30)
        await runner.cleanup()
    _report(args, load, elapsed, counts, fake.requests)


def _children(pid: int) -> list[int]:
    """The uvicorn worker processes (children of the supervisor `pid`)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def _report(args: argparse.Namespace, load: Load, elapsed: float, counts: dict[str, Any],
            fake_requests: int) -> None:
    lost = counts["expected"] - counts["inbound"] + counts["unprocessed"]
    doubled = counts["turns_twice"] + fake_requests - counts["replies_stored"]
    print(f"{load.sent} messages (+{load.duplicates} duplicate deliveries) from {args.debtors} "
          f"debtors, {args.concurrency} at once, {args.workers} workers, PostgreSQL + Redis")
    print(f"throughput {load.sent / elapsed:.0f} msg/s offered and answered ({elapsed:.1f} s); "
          f"server side {counts['served_rate']:.0f} msg/s (first stored → last processed)")
    print(f"webhook ack p50 {statistics.median(load.webhook) * 1000:.1f} ms, "
          f"p99 {_pct(load.webhook, 0.99):.1f} ms; reply received p50 "
          f"{statistics.median(load.end_to_end) * 1000:.1f} ms, "
          f"p99 {_pct(load.end_to_end, 0.99):.1f} ms")
    print(f"inbound rows {counts['inbound']} of {counts['expected']}, unprocessed "
          f"{counts['unprocessed']} (lost {lost}); turns run twice {counts['turns_twice']}, "
          f"replies sent {fake_requests} for {counts['replies_stored']} stored (doubled "
          f"{doubled}); held by the gate {counts['replies_held']}; no reply within "
          f"{REPLY_TIMEOUT:.0f} s {load.no_reply}; non-200 acks {load.non_200}")
    cpu = {k: v / load.sent * 1000 for k, v in counts["cpu"].items()}
    print(f"CPU per message: {cpu['workers']:.1f} ms in the workers + {cpu['postgres']:.1f} ms "
          f"in PostgreSQL (+ {cpu['generator']:.1f} ms load generator and fake Twilio) = bound "
          f"of {2000 / (cpu['workers'] + cpu['postgres']):.0f} msg/s on two cores")


def main() -> None:
    """Command-line entry point."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request costs the load
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debtors", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=150, help="debtors texting at once")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
