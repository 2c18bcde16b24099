"""training examples: trainers' reviews of debtor messages (accepted, masked, or dismissed)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import backend.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "training_example",
        sa.Column("id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=40), nullable=True),
        sa.Column("entities", JSON, nullable=True),
        sa.Column("masked", JSON, nullable=True),
        sa.Column("reasons", sa.String(length=64), nullable=False),
        sa.Column("original_intent", sa.String(length=40), nullable=True),
        sa.Column("original_confidence", sa.Float(), nullable=True),
        sa.Column("reviewer_id", ID, nullable=False),
        sa.Column("reviewed_at", backend.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"],
                                name=op.f("fk_training_example_message_id_message")),
        sa.ForeignKeyConstraint(["reviewer_id"], ["agent_user.id"],
                                name=op.f("fk_training_example_reviewer_id_agent_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_example")),
        sa.UniqueConstraint("message_id", name=op.f("uq_training_example_message_id")),
    )
    with op.batch_alter_table("training_example", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_example_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_example_reviewed_at"), ["reviewed_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_example", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_example_reviewed_at"))
        batch_op.drop_index(batch_op.f("ix_training_example_status"))
    op.drop_table("training_example")
