"""Heads kept outside the database catch a cut tail and a rewritten chain; texts are evidenced.

Run as an operator would: `parley audit verify` against a SQLite file.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner, Result

from backend.cli.main import app
from backend.cli.runtime import run
from backend.container import Container
from backend.db.engine import build_engine, build_sessionmaker
from backend.db.models import AuditEvent, Conversation, Message
from backend.reports_wiring import install_reports
from backend.services import audit

runner = CliRunner()
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
HEAD = re.compile(r"^head: event (\d+) ([0-9a-f]{64})$", re.MULTILINE)


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return url


def _verify(*args: str) -> Result:
    return runner.invoke(app, ["audit", "verify", *args])


def _in_db(url: str, change: Callable[[AsyncSession], Awaitable[object]]) -> None:
    async def body() -> None:
        engine = build_engine(url)
        async with build_sessionmaker(engine).begin() as session:
            await change(session)
        await engine.dispose()

    run(body)


def _events(count: int) -> None:
    for _ in range(count):
        assert runner.invoke(app, ["apikey", "create"]).exit_code == 0


def _head(result: Result) -> str:
    match = HEAD.search(result.output)
    assert match, result.output
    return f"{match.group(1)}:{match.group(2)}"


async def _rehash_all(session: AsyncSession) -> None:
    """What a forger with database access does after editing: recompute every later hash."""
    prev = audit.GENESIS_HASH
    for event in await session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        event.prev_hash, event.hash = prev, audit.event_hash(prev, event)
        prev = event.hash


def test_an_untouched_chain_prints_its_head_and_holds_it(db_env: str) -> None:
    _events(3)
    first = _verify()
    assert first.exit_code == 0 and "audit chain ok: 3 events verified" in first.output
    head = _head(first)
    assert head.startswith("3:")
    _events(1)  # the chain grows past the checkpoint: still held

    later = _verify("--expect", head, "--messages")

    assert later.exit_code == 0, later.output
    assert _head(later).startswith("4:")


def test_a_cut_tail_is_caught_by_the_head_kept_elsewhere(db_env: str) -> None:
    _events(5)
    head = _head(_verify())
    _in_db(db_env, lambda s: s.execute(delete(AuditEvent).where(AuditEvent.id > 3)))
    assert _verify().exit_code == 0  # the chain alone cannot see it

    result = _verify("--expect", head)

    assert result.exit_code == 1
    assert "audit event 5: the chain ends at event 3, before this checkpoint" in result.output
    assert "head:" not in result.output


def test_a_rewritten_and_rehashed_chain_fails_the_checkpoint(db_env: str) -> None:
    _events(4)
    kept = [_head(_verify())]
    _events(1)
    kept.append(_head(_verify()))

    async def forge(session: AsyncSession) -> None:
        await session.execute(update(AuditEvent).where(AuditEvent.id == 2).values(actor="x"))
        await session.execute(delete(AuditEvent).where(AuditEvent.id == 4))
        await _rehash_all(session)

    _in_db(db_env, forge)
    assert _verify().exit_code == 0  # a plain SHA-256 chain, recomputed: consistent again

    result = _verify(*(arg for head in kept for arg in ("--expect", head)))

    assert result.exit_code == 1
    assert "audit event 4: missing" in result.output
    assert "audit event 5: hash differs from the checkpoint" in result.output


def test_a_malformed_checkpoint_is_refused(db_env: str) -> None:
    result = _verify("--expect", "12:not-a-hash")
    assert result.exit_code == 2 and "Traceback" not in result.output


async def _conversation_with(session: AsyncSession, *texts: str) -> list[int]:
    conversation = Conversation(
        channel="sms", address="+12125550123", started_at=NOW, last_message_at=NOW
    )
    session.add(conversation)
    await session.flush()
    messages = [
        Message(
            conversation_id=conversation.id,
            direction="inbound",
            channel="sms",
            text=text,
            delivery_status="received",
            created_at=NOW,
        )
        for text in texts
    ]
    session.add_all(messages)
    await session.flush()
    await audit.record(
        session,
        occurred_at=NOW,
        actor="bot",
        action="turn",
        subject_type="message",
        subject_id=messages[0].id,
        data={"texts": {str(m.id): audit.text_digest(m.text) for m in messages}},
    )
    return [m.id for m in messages]


def test_verify_messages_names_an_edited_and_a_deleted_message(db_env: str) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    ids: list[int] = []

    async def seed(session: AsyncSession) -> None:
        ids.extend(
            await _conversation_with(
                session, "when is it due", "Thanks, noted.", "This message was blocked."
            )
        )

    _in_db(db_env, seed)
    assert _verify("--messages").exit_code == 0
    assert "messages ok: 3 recorded texts match" in _verify("--messages").output

    async def tamper(session: AsyncSession) -> None:
        await session.execute(
            update(Message).where(Message.id == ids[1]).values(text="Pay now or we will sue")
        )
        await session.execute(delete(Message).where(Message.id == ids[2]))

    _in_db(db_env, tamper)
    assert _verify().exit_code == 0  # the chain itself is intact

    result = _verify("--messages")

    assert result.exit_code == 1
    assert f"message {ids[1]} (audit event 1): text changed" in result.output
    assert f"message {ids[2]} (audit event 1): gone" in result.output
    assert f"message {ids[0]} " not in result.output


def test_the_digest_is_the_sha256_of_the_text_with_whitespace_collapsed() -> None:
    assert audit.text_digest(" Pay\n\nnow ") == hashlib.sha256(b"Pay now").hexdigest()


async def test_the_head_is_logged_once_a_day(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    async with container.sessions.begin() as session:
        await audit.record(
            session,
            occurred_at=NOW,
            actor="t",
            action="thing.happened",
            subject_type="account",
            subject_id=1,
        )
    async with container.sessions() as session:
        head = await audit.chain_head(session)
    assert head is not None
    install_reports(None, container)
    [job] = [j for j in container.scheduler.jobs if j.name == "audit.head"]
    assert job.interval.days == 1

    with caplog.at_level(logging.INFO, logger="backend.services.audit"):
        await job.func(container.clock.now())

    assert f"audit chain head: event {head.event_id} {head.hash}" in caplog.text
