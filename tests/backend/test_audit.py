"""The audit log is hash-chained: any edit, deletion or reordering is detected."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import delete, select, update

from backend.container import Container
from backend.db.models import AuditEvent
from backend.services import audit


async def _record_three(container: Container) -> None:
    now = container.clock.now()
    for index in range(3):
        async with container.sessions.begin() as session:
            await audit.record(session, occurred_at=now + timedelta(seconds=index), actor="t",
                               action="thing.happened", subject_type="account",
                               subject_id=index, data={"n": index, "amount": "10.00"})


async def _verify(container: Container) -> audit.VerifyResult:
    async with container.sessions() as session:
        return await audit.verify(session)


async def test_an_untouched_chain_verifies(container: Container) -> None:
    await _record_three(container)
    result = await _verify(container)
    assert result.ok and result.checked == 3


async def test_each_event_links_to_the_previous_hash(container: Container) -> None:
    await _record_three(container)
    async with container.sessions() as session:
        events = list(await session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert events[0].prev_hash == audit.GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]


async def test_changed_content_is_detected(container: Container) -> None:
    await _record_three(container)
    async with container.sessions.begin() as session:
        await session.execute(update(AuditEvent).where(AuditEvent.subject_id == "1")
                              .values(data={"n": 1, "amount": "0.00"}))
    result = await _verify(container)
    assert not result.ok
    assert [(b.event_id, "content" in b.reason) for b in result.breaks] == [(2, True)]


async def test_a_deleted_event_is_detected(container: Container) -> None:
    await _record_three(container)
    async with container.sessions.begin() as session:
        await session.execute(delete(AuditEvent).where(AuditEvent.subject_id == "1"))
    result = await _verify(container)
    assert [b.event_id for b in result.breaks] == [3]
    assert "previous hash" in result.breaks[0].reason


async def test_concurrent_writers_keep_one_unbroken_chain(container: Container) -> None:
    now = container.clock.now()

    async def write(n: int) -> None:
        async with container.sessions.begin() as session:
            for part in range(2):
                await audit.record(session, occurred_at=now, actor="t", action="thing.happened",
                                   subject_type="account", subject_id=n, data={"part": part})

    await asyncio.gather(*(write(n) for n in range(12)))
    result = await _verify(container)
    assert result.ok and result.checked == 24
    async with container.sessions() as session:
        rows = (await session.execute(select(AuditEvent.subject_id, AuditEvent.data)
                                      .order_by(AuditEvent.id))).all()
    # A transaction's events stay together, in the order they were recorded.
    assert [d["part"] for _, d in rows] == [0, 1] * 12
    assert [rows[i][0] for i in range(0, 24, 2)] == [rows[i][0] for i in range(1, 24, 2)]
