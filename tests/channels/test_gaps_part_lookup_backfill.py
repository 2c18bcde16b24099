"""Migration 0015 indexes the earlier parts already in split messages' envelopes, deletes
them with their message, and downgrades cleanly."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from backend.db.engine import build_engine
from backend.db.migrate import alembic_config, upgrade

ROWS = """
INSERT INTO conversation (id, channel, address, ownership, started_at, last_message_at) VALUES
  (1, 'whatsapp', '+1', 'bot', '2026-09-02 00:00:00+00', '2026-09-02 00:00:00+00');
INSERT INTO message (id, conversation_id, direction, channel, provider_message_id, sender, text,
  entities, delivery_status, created_at) VALUES
  (5, 1, 'outbound', 'whatsapp', 'wamid.C', 'bot', 'Hi',
   '[{"outbound": {"part_ids": ["wamid.A", "wamid.B"], "idempotency_key": "k5"}}]', 'sent',
   '2026-09-02 00:00:00+00'),
  (6, 1, 'outbound', 'whatsapp', 'wamid.D', 'bot', 'part_ids wamid.A',
   '[{"outbound": {"template_vars": {"ref": "part_ids"}}}]', 'sent', '2026-09-03 00:00:00+00'),
  (7, 1, 'inbound', 'whatsapp', 'wamid.E', 'debtor', 'Hi', NULL, 'received',
   '2026-09-04 00:00:00+00');
"""


async def _run(url: str, statements: str = "", downgrade_to: str | None = None) -> None:
    engine = build_engine(url)
    try:
        async with engine.begin() as conn:
            if downgrade_to:
                await conn.run_sync(
                    lambda sync: command.downgrade(alembic_config(sync), downgrade_to))
            for statement in filter(str.strip, statements.split(";")):
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def _select(url: str, query: str) -> list[tuple[object, ...]]:
    engine = build_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(query))).all()]
    finally:
        await engine.dispose()


async def test_0015_indexes_the_parts_already_sent(database_url: str) -> None:
    await _run(database_url, ROWS, downgrade_to="0014")
    await upgrade(database_url)
    assert await _select(database_url, "SELECT provider_message_id, channel, message_id"
                         " FROM message_part ORDER BY provider_message_id") == [
        ("wamid.A", "whatsapp", 5), ("wamid.B", "whatsapp", 5)]
    await _run(database_url, "DELETE FROM message WHERE id = 5")
    assert await _select(database_url, "SELECT count(*) FROM message_part") == [(0,)]
    await _run(database_url, downgrade_to="0014")
    assert await _select(database_url, "SELECT count(*) FROM message") == [(2,)]
    assert "message_part" not in await _tables(database_url)


async def _tables(url: str) -> list[str]:
    engine = build_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
