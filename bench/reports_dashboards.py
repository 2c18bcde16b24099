"""Benchmark: every dashboard page over 1,000,000 accounts and 5,000,000 messages (PostgreSQL).

Data is generated inside PostgreSQL with generate_series (INSERT ... SELECT) with the columns
the app keeps (a conversation's portfolio, a send's delivery state and conversation); each page
is built as the console builds it (all its queries, or the all-time snapshot the refresh job
made, while under 15 minutes old) and timed as one figure. Target: <= 1 s per page.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import asyncpg
from sqlalchemy.engine import make_url

from backend.db.engine import build_engine, build_sessionmaker
from backend.db.migrate import upgrade
from backend.reports.catalog import DASHBOARDS, Options
from backend.reports.filters import ReportFilter
from backend.reports.refresh import refresh_snapshots
from backend.reports.source import figures

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "parley_bench_reports"
TODAY = date(2026, 11, 25)
TARGET_SECONDS = 1.0
PORTFOLIOS = 20
AGENTS = 50

# created(g): placement instant of account g, spread over 2026-01-01 .. 2026-11-24.
CREATED = ("(timestamptz '2026-01-01 00:00:00+00' + (({g} * 97) % 328) * interval '1 day'"
           " + (({g} * 7) % 86400) * interval '1 second')")
INTENTS = ("promise_to_pay", "pay_in_full", "pay_partial", "request_payment_plan", "hardship",
           "dispute_debt", "already_paid", "ask_balance", "ask_who", "wrong_person", "opt_out",
           "complaint", "request_agent", "affirm", "deny", "greet", "thanks", "out_of_scope")


def seed_statements(accounts: int, messages: int) -> list[tuple[str, str]]:
    """(label, SQL) in load order; ids are explicit so rows can refer to each other by formula."""
    per_conv = max(1, messages // accounts)
    intents = "ARRAY[" + ",".join(f"'{i}'" for i in INTENTS) + "]"
    created = CREATED.format(g="g")
    conv_started = CREATED.format(g="c") + " + (c % 5) * interval '1 day'"
    return [
        ("creditors, portfolios, agents", f"""
            INSERT INTO creditor (id, name, created_at)
              SELECT c, 'Creditor ' || c, now() FROM generate_series(1, 5) c;
            INSERT INTO portfolio (id, creditor_id, name, policy, policy_version, created_at)
              SELECT p, (p - 1) / 4 + 1, 'Portfolio ' || p, '{{}}', 1, now()
              FROM generate_series(1, {PORTFOLIOS}) p;
            INSERT INTO agent_user (id, email, name, password_hash, role, failed_logins,
                                    created_at)
              SELECT a, 'agent' || a || '@bench.test', 'Agent ' || a, '-', 'agent', 0, now()
              FROM generate_series(1, {AGENTS}) a;"""),
        ("debtors", f"""
            INSERT INTO debtor (id, full_name, country, timezone, preferred_language, created_at)
              SELECT g, 'Debtor ' || g, 'US', 'America/New_York', 'en', {created}
              FROM generate_series(1::bigint, {accounts}) g;"""),
        ("accounts", f"""
            INSERT INTO account (id, creditor_id, portfolio_id, debtor_id, external_ref,
                currency, original_balance, current_balance, due_date, status, dispute, cease,
                attorney, bankruptcy, deceased, hardship, created_at, updated_at)
            SELECT g, (g - 1) % {PORTFOLIOS} / 4 + 1, (g - 1) % {PORTFOLIOS} + 1, g, 'B' || g,
                'USD', ob, ob - p1 - p2, ({created})::date - (g * 31 % 400)::int,
                CASE WHEN g % 30 = 0 THEN 'paid' WHEN g % 97 = 0 THEN 'closed'
                     ELSE 'active' END,
                g % 50 = 0, g % 70 = 0, g % 300 = 0, g % 400 = 0, g % 900 = 0, g % 40 = 0,
                {created}, {created}
            FROM (SELECT g, ob, p1, CASE WHEN g % 30 = 0 THEN ob - p1
                                         WHEN g % 6 = 0 THEN round(ob * 0.2, 2) ELSE 0 END p2
                  FROM (SELECT g, ob, CASE WHEN g % 3 = 0 THEN round(ob * 0.4, 2)
                                           ELSE 0 END p1
                        FROM (SELECT g, round(50 + ((g * 7919) % 495001) / 100.0, 2) ob
                              FROM generate_series(1::bigint, {accounts}) g) a) b) c;"""),
        ("payments", """
            INSERT INTO payment (account_id, amount, currency, paid_at, method, channel, source,
                                 reference, created_at)
            SELECT id, amount, 'USD', at, (ARRAY['card', 'bank_transfer', 'ach'])[id % 3 + 1],
                   (ARRAY['sms', 'whatsapp', 'web', 'telegram', NULL])[id % 5 + 1], 'api',
                   ref, at
            FROM (SELECT id, round(original_balance * 0.4, 2) amount, 'P1-' || id ref,
                         least(created_at + (id % 60 + 1) * interval '1 day',
                               timestamptz '2026-11-24 23:00:00+00') at
                  FROM account WHERE id % 3 = 0
                  UNION ALL
                  SELECT id, CASE WHEN id % 30 = 0
                                  THEN original_balance - round(original_balance * 0.4, 2)
                                  ELSE round(original_balance * 0.2, 2) END,
                         'P2-' || id,
                         least(created_at + (id % 60 + 31) * interval '1 day',
                               timestamptz '2026-11-24 23:30:00+00')
                  FROM account WHERE id % 6 = 0) p;"""),
        ("conversations", f"""
            INSERT INTO conversation (id, channel, address, debtor_id, account_id,
                                      portfolio_id, ownership, started_at, last_message_at)
            SELECT c, (ARRAY['sms', 'whatsapp', 'telegram', 'web'])[c % 4 + 1], '+1' || c,
                   a.debtor_id, a.id, a.portfolio_id,
                   CASE WHEN c % 7 = 0 THEN 'agent' ELSE 'bot' END,
                   {conv_started}, {conv_started}
            FROM generate_series(1::bigint, {accounts}) c
            LEFT JOIN account a ON a.id = c AND c % 25 <> 0;"""),
        ("messages", f"""
            INSERT INTO message (id, conversation_id, direction, channel, sender, text, intent,
                                 confidence, delivery_status, created_at)
            SELECT m, c, CASE WHEN inbound THEN 'inbound' ELSE 'outbound' END,
                   (ARRAY['sms', 'whatsapp', 'telegram', 'web'])[c % 4 + 1],
                   CASE WHEN inbound THEN 'debtor'
                        WHEN c % 7 = 0 AND k >= 3 THEN 'agent:' || (c % {AGENTS} + 1)
                        ELSE 'bot' END,
                   'bench',
                   CASE WHEN inbound AND m % 11 <> 0
                        THEN ({intents})[(m * 7) % {len(INTENTS)} + 1] END,
                   CASE WHEN inbound AND m % 11 <> 0 THEN ((m * 37) % 1000) / 1000.0 END,
                   CASE WHEN inbound THEN 'received' ELSE 'delivered' END,
                   {conv_started} + k * interval '10 minutes'
            FROM (SELECT m, (m - 1) / {per_conv} + 1 c, (m - 1) % {per_conv} k,
                         (m - 1) % {per_conv} % 2 = 1 AND ((m - 1) / {per_conv} + 1) % 4 <> 0
                           AS inbound
                  FROM generate_series(1::bigint, {messages}) m) s;"""),
        ("promises, plans, disputes, handoffs, corrections", f"""
            INSERT INTO promise (account_id, amount, due_date, status, paid_amount, channel,
                                 conversation_id, created_at)
              SELECT id, round(original_balance * 0.3, 2), created_at::date + 14,
                     (ARRAY['kept', 'partially_kept', 'broken', 'pending', 'cancelled'])
                       [id % 5 + 1], 0, 'sms', CASE WHEN id % 25 = 0 THEN NULL ELSE id END,
                     created_at + interval '1 day'
              FROM account WHERE id % 4 = 0;
            INSERT INTO payment_plan (account_id, total, down_payment, frequency, is_settlement,
                                      status, created_at)
              SELECT id, original_balance, 0, 'monthly', id % 3 = 0,
                     (ARRAY['active', 'completed', 'broken', 'cancelled'])[id % 4 + 1],
                     created_at + interval '2 days'
              FROM account WHERE id % 15 = 0;
            INSERT INTO dispute (account_id, reason, status, opened_at)
              SELECT id, 'bench', (ARRAY['open', 'verified', 'resolved'])[id % 3 + 1],
                     created_at + interval '3 days'
              FROM account WHERE id % 50 = 0;
            INSERT INTO handoff (conversation_id, reason, queue, priority, status, agent_id,
                                 created_at, claimed_at, closed_at)
              SELECT id, (ARRAY['complaint', 'dispute', 'hardship', 'needs_approval',
                              'no_offer_in_policy', 'cannot_verify'])[id % 6 + 1],
                     (ARRAY['complaints', 'disputes', 'hardship', 'approvals', 'negotiation',
                            'verification'])[id % 6 + 1],
                     0, 'agent', CASE WHEN id % 10 = 0 THEN NULL ELSE id % {AGENTS} + 1 END,
                     started_at + interval '20 minutes',
                     CASE WHEN id % 10 <> 0 THEN started_at + interval '20 minutes'
                          + (id * 13 % 3600) * interval '1 second' END,
                     CASE WHEN id % 10 <> 0 AND id % 3 <> 0 THEN started_at
                          + interval '2 hours' END
              FROM conversation WHERE id % 7 = 0;
            INSERT INTO intent_correction (message_id, original_intent, original_confidence,
                                           corrected_intent, agent_id, status, created_at)
              SELECT id, intent, confidence, 'dispute_debt', id % {AGENTS} + 1, 'new',
                     created_at + interval '1 hour'
              FROM message WHERE id % 250 = 2 AND direction = 'inbound';"""),
        ("identity verifications (audit events)", """
            -- As the identity dialog records them, 10 minutes into the conversation. Of the
            -- linked conversations where the debtor replied (id % 4 <> 0), half pass
            -- verification (1 in 5 of those again the next day, once it expired), 2 in 10
            -- fail and the rest never get that far; the ones promises were made in (id % 4 = 0,
            -- above) passed. Right-party contact counts identity.verified conversations.
            -- The hashes are unique but not a chain: the reports never read it.
            INSERT INTO audit_event (occurred_at, actor, action, subject_type, subject_id,
                                     data, prev_hash, hash)
            SELECT started_at + interval '10 minutes' + n * interval '1 day', 'bot', action,
                   'conversation', id::text, '{}', repeat('0', 64),
                   encode(sha256((action || ':' || id || ':' || n)::bytea), 'hex')
            FROM (SELECT id, started_at, CASE WHEN id % 4 = 0 OR id % 10 < 5
                                              THEN 'identity.verified'
                                              ELSE 'identity.failed' END action
                  FROM conversation
                  WHERE account_id IS NOT NULL AND (id % 4 = 0 OR id % 10 < 7)) v
            CROSS JOIN generate_series(0, 1) n
            WHERE n = 0 OR (id % 4 <> 0 AND id % 10 = 1);"""),
        ("strategy sends (each conversation's first message)", f"""
            INSERT INTO strategy (id, name, description, priority, created_at, updated_at)
              VALUES (1, 'bench', '', 100, now(), now());
            INSERT INTO strategy_version (id, strategy_id, version, definition, source,
                                          created_by, created_at)
              VALUES (1, 1, 1, '{{}}', '', 'bench', now());
            INSERT INTO planned_contact (key, account_id, strategy_version_id, segment, step,
                variant, anchor, anchor_date, due_at, status, reason, channel, message_id,
                delivery_status, conversation_id, attempts, created_at, updated_at)
            SELECT 'bench-' || c, c, 1, 'standard', step,
                   CASE WHEN step = 'd+1' THEN (ARRAY['plain', 'helpful'])[c / 4 % 2 + 1] END,
                   'due_date', started_at::date, started_at, 'sent', 'bench', s.channel,
                   m.id, m.delivery_status, m.conversation_id, 1, started_at, started_at
            FROM (SELECT id c, started_at, channel,
                         (ARRAY['d-3', 'd+1', 'd+15', 'promise-reminder'])[id % 4 + 1] step
                  FROM conversation WHERE account_id IS NOT NULL
                    AND (id - 1) * {per_conv} + 1 <= {messages}) s
            -- Marking a contact sent copies its message's state and conversation.
            JOIN message m ON m.id = (c - 1) * {per_conv} + 1;"""),
        ("vacuum analyze", "VACUUM ANALYZE"),
    ]


def _admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin_execute(admin_url: str, statement: str) -> None:
    conn = await asyncpg.connect(_admin_dsn(admin_url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def bench_database(admin_url: str, keep: bool) -> AsyncIterator[str]:
    """A fresh `parley_bench_reports` migrated to head; dropped afterwards unless `keep`."""
    drop = f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'
    await _admin_execute(admin_url, drop)
    await _admin_execute(admin_url, f'CREATE DATABASE "{BENCH_DB}"')
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=BENCH_DB)
    rendered = url.render_as_string(hide_password=False)
    try:
        await upgrade(rendered)
        yield rendered
    finally:
        if not keep:
            await _admin_execute(admin_url, drop)


async def populate(url: str, accounts: int, messages: int) -> None:
    """Run the generating INSERTs, printing how long each took."""
    conn = await asyncpg.connect(_admin_dsn(url))
    try:
        await conn.execute("SET synchronous_commit = off")
        for label, sql in seed_statements(accounts, messages):
            started = time.perf_counter()
            await conn.execute(sql)
            print(f"  load {label:<50} {time.perf_counter() - started:7.1f} s", flush=True)
    finally:
        await conn.close()


PAGES = ("recovery", "outcomes", "automation", "nlu", "strategy")
OPTIONS = Options(today=TODAY)
FILTERS = {
    "all time": ReportFilter(),
    "last 30 days": ReportFilter(start=date(2026, 10, 26), end=date(2026, 11, 24)),
    "1 portfolio, 90 days": ReportFilter(start=date(2026, 8, 27), end=date(2026, 11, 24),
                                         portfolio_id=7),
}


async def time_pages(url: str, repeats: int) -> list[tuple[str, str, float, float]]:
    """(page, filter, first run s, median of the next runs s) for every page and filter.

    Pages are built as the console builds them; the all-time snapshots are refreshed first,
    as the reports job does every 15 minutes (its cost is printed: that is the live figure).
    """
    engine = build_engine(url)
    sessions = build_sessionmaker(engine)
    results = []
    try:
        seconds = await refresh_snapshots(sessions, OPTIONS, datetime.now(UTC))
        print("  snapshot refresh (all time, live): " + ", ".join(
            f"{page} {s:.3f} s" for page, s in seconds.items()), flush=True)
        outcomes = await figures(sessions, DASHBOARDS["outcomes"], ReportFilter(), OPTIONS,
                                 datetime.now(UTC), OPTIONS)
        print("  outcomes (all time): " + ", ".join(
            f"{r.metric} {r.numerator:,}/{r.denominator:,}" for r in outcomes.report.rates),
            flush=True)
        for filter_name, flt in FILTERS.items():
            for page in PAGES:
                runs = []
                for _ in range(repeats + 1):
                    started = time.perf_counter()
                    await figures(sessions, DASHBOARDS[page], flt, OPTIONS, datetime.now(UTC),
                                  OPTIONS)
                    runs.append(time.perf_counter() - started)
                results.append((page, filter_name, runs[0], statistics.median(runs[1:])))
                print(f"  {page:<11} {filter_name:<22} first {runs[0]:6.3f} s   "
                      f"median {statistics.median(runs[1:]):6.3f} s", flush=True)
    finally:
        await engine.dispose()
    return results


def summary(results: list[tuple[str, str, float, float]]) -> str:
    """A Markdown table of the medians, page by filter."""
    lines = ["| page | " + " | ".join(FILTERS) + " |", "|---|" + "---|" * len(FILTERS)]
    for page in PAGES:
        cells = [f"{median:.3f} s" for p, _, _, median in results if p == page]
        lines.append(f"| {page} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def main(accounts: int, messages: int, repeats: int, keep: bool, reuse: bool) -> int:
    admin = os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {accounts:,} accounts, {messages:,} messages")
    if reuse:
        kept = make_url(admin).set(drivername="postgresql+asyncpg", database=BENCH_DB)
        results = await time_pages(kept.render_as_string(hide_password=False), repeats)
    else:
        async with bench_database(admin, keep) as url:
            started = time.perf_counter()
            await populate(url, accounts, messages)
            print(f"  loaded in {time.perf_counter() - started:.0f} s")
            results = await time_pages(url, repeats)
    print(summary(results))
    slow = [r for r in results if r[3] > TARGET_SECONDS]
    print("target <= 1 s per page:", "met" if not slow else f"missed by {len(slow)} page(s)")
    return 0


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs after a first one")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true",
                        help="time an existing (kept) database without reloading it")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(
        main(args.accounts, args.messages, args.repeats, args.keep, args.reuse)
    ))


if __name__ == "__main__":
    cli()
