"""Migration 0008 backfills the copied columns from existing rows, and downgrades cleanly."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from backend.db.engine import build_engine
from backend.db.migrate import alembic_config, upgrade

ROWS = """
INSERT INTO creditor (id, name, created_at) VALUES (1, 'C', '2026-11-01 00:00:00+00');
INSERT INTO portfolio (id, creditor_id, name, policy, policy_version, created_at)
  VALUES (7, 1, 'P', '{}', 1, '2026-11-01 00:00:00+00');
INSERT INTO debtor (id, full_name, country, timezone, preferred_language, created_at)
  VALUES (1, 'D', 'US', 'America/New_York', 'en', '2026-11-01 00:00:00+00');
INSERT INTO account (id, creditor_id, portfolio_id, debtor_id, external_ref, currency,
  original_balance, current_balance, due_date, status, dispute, cease, attorney, bankruptcy,
  deceased, hardship, created_at, updated_at)
  VALUES (1, 1, 7, 1, 'A1', 'USD', 100, 100, '2026-11-01', 'active', false, false, false,
          false, false, false, '2026-11-01 00:00:00+00', '2026-11-01 00:00:00+00');
INSERT INTO conversation (id, channel, address, debtor_id, account_id, ownership, started_at,
  last_message_at) VALUES
  (1, 'sms', '+1', 1, 1, 'bot', '2026-11-02 00:00:00+00', '2026-11-02 00:00:00+00'),
  (2, 'sms', '+2', NULL, NULL, 'bot', '2026-11-02 00:00:00+00', '2026-11-02 00:00:00+00');
INSERT INTO message (id, conversation_id, direction, channel, sender, text, delivery_status,
  created_at) VALUES (5, 1, 'outbound', 'sms', 'workflow', 'Hi', 'read',
  '2026-11-02 00:00:00+00');
INSERT INTO strategy (id, name, description, priority, created_at, updated_at)
  VALUES (1, 'S', '', 100, '2026-11-01 00:00:00+00', '2026-11-01 00:00:00+00');
INSERT INTO strategy_version (id, strategy_id, version, definition, source, created_by,
  created_at) VALUES (1, 1, 1, '{}', '', 't', '2026-11-01 00:00:00+00');
INSERT INTO planned_contact (id, key, account_id, strategy_version_id, segment, step, anchor,
  anchor_date, due_at, status, reason, message_id, attempts, created_at, updated_at) VALUES
  (1, 'k1', 1, 1, 's', 'd+1', 'due_date', '2026-11-01', '2026-11-02 00:00:00+00', 'sent', 'r',
   5, 1, '2026-11-02 00:00:00+00', '2026-11-02 00:00:00+00'),
  (2, 'k2', 1, 1, 's', 'd+2', 'due_date', '2026-11-01', '2026-11-03 00:00:00+00', 'planned',
   'r', NULL, 0, '2026-11-02 00:00:00+00', '2026-11-02 00:00:00+00');
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


async def test_0008_backfills_portfolios_and_send_states(database_url: str) -> None:
    await _run(database_url, ROWS, downgrade_to="0007")
    await upgrade(database_url)
    assert await _select(database_url, "SELECT id, portfolio_id FROM conversation ORDER BY id"
                         ) == [(1, 7), (2, None)]
    assert await _select(database_url, "SELECT id, delivery_status, conversation_id"
                         " FROM planned_contact ORDER BY id") == [(1, "read", 1),
                                                                   (2, None, None)]
    await _run(database_url, downgrade_to="0007")
    assert await _select(database_url, "SELECT count(*) FROM planned_contact") == [(2,)]
