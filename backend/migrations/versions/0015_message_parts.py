"""message parts: the earlier parts of split replies by provider id, so their statuses find them

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 22:00:00.000000
"""

import json
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BATCH = 1000
MESSAGE = sa.table("message", sa.column("id", ID), sa.column("channel", sa.String),
                   sa.column("direction", sa.String), sa.column("entities", sa.JSON))


def upgrade() -> None:
    part = op.create_table(
        "message_part",
        sa.Column("provider_message_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], ondelete="CASCADE",
                                name=op.f("fk_message_part_message_id_message")),
        sa.PrimaryKeyConstraint("provider_message_id", "channel", name=op.f("pk_message_part")),
    )
    op.create_index(op.f("ix_message_part_message_id"), "message_part", ["message_id"])
    seen: set[tuple[str, str]] = set()
    for rows in _split_messages():
        fresh = [row for row in rows if (row["provider_message_id"], row["channel"]) not in seen]
        seen.update((row["provider_message_id"], row["channel"]) for row in fresh)
        if fresh:
            op.bulk_insert(part, fresh)


def downgrade() -> None:
    op.drop_index(op.f("ix_message_part_message_id"), table_name="message_part")
    op.drop_table("message_part")


def _split_messages() -> Iterator[list[dict[str, Any]]]:
    """The part rows of messages whose envelope names `part_ids`, a batch at a time.

    The JSON is read as text on both dialects (parsed here): one code path for SQLite's JSON
    and PostgreSQL's JSONB, and the text match skips the unsplit messages.
    """
    bind, after = op.get_bind(), 0
    entities = sa.cast(MESSAGE.c.entities, sa.Text)
    while True:
        found = bind.execute(
            sa.select(MESSAGE.c.id, MESSAGE.c.channel, entities).where(
                MESSAGE.c.id > after, MESSAGE.c.direction == "outbound",
                entities.contains('"part_ids"'))
            .order_by(MESSAGE.c.id).limit(BATCH)).all()
        if not found:
            return
        after = found[-1][0]
        yield [{"provider_message_id": part, "channel": channel, "message_id": message_id}
               for message_id, channel, text in found for part in _part_ids(text)]


def _part_ids(text: str | None) -> list[str]:
    """`part_ids` of the stored envelope (as backend.services.delivery.envelope_in reads it)."""
    for item in json.loads(text or "null") or []:
        if isinstance(item, dict) and "outbound" in item:
            return [str(part) for part in item["outbound"].get("part_ids") or []]
    return []
