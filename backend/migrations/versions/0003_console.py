"""console: internal notes, intent corrections, agent queue membership

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-25 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db.types

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "conversation_note",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", backend.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent_user.id"], name=op.f("fk_conversation_note_agent_id_agent_user")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"], name=op.f("fk_conversation_note_conversation_id_conversation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_note")),
    )
    with op.batch_alter_table("conversation_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_note_conversation_id"), ["conversation_id"], unique=False)

    op.create_table(
        "intent_correction",
        sa.Column("id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("original_intent", sa.String(length=40), nullable=True),
        sa.Column("original_confidence", sa.Float(), nullable=True),
        sa.Column("corrected_intent", sa.String(length=40), nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", backend.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent_user.id"], name=op.f("fk_intent_correction_agent_id_agent_user")),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], name=op.f("fk_intent_correction_message_id_message")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intent_correction")),
        sa.UniqueConstraint("message_id", name=op.f("uq_intent_correction_message_id")),
    )
    with op.batch_alter_table("intent_correction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intent_correction_status"), ["status"], unique=False)

    op.create_table(
        "agent_queue",
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent_user.id"], name=op.f("fk_agent_queue_agent_id_agent_user")),
        sa.PrimaryKeyConstraint("agent_id", "queue", name=op.f("pk_agent_queue")),
    )


def downgrade() -> None:
    op.drop_table("agent_queue")
    with op.batch_alter_table("intent_correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intent_correction_status"))
    op.drop_table("intent_correction")
    with op.batch_alter_table("conversation_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_note_conversation_id"))
    op.drop_table("conversation_note")
