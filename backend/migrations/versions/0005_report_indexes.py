"""report indexes: period filters of the dashboards, covering index for message aggregates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 18:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index, table, columns): every dashboard filters these tables by these dates.
PERIOD_INDEXES = (
    ("ix_account_created_at", "account", ["created_at"]),
    ("ix_conversation_started_at", "conversation", ["started_at"]),
    ("ix_handoff_created_at", "handoff", ["created_at"]),
    ("ix_handoff_claimed_at", "handoff", ["claimed_at"]),
    ("ix_promise_created_at", "promise", ["created_at"]),
    ("ix_payment_plan_created_at", "payment_plan", ["created_at"]),
    ("ix_dispute_opened_at", "dispute", ["opened_at"]),
)
MESSAGE_INDEX = "ix_message_direction_created_at"


def upgrade() -> None:
    for name, table, columns in PERIOD_INDEXES:
        op.create_index(name, table, columns)
    # PostgreSQL answers the intent mix and agent counts from the index alone (INCLUDE).
    op.create_index(
        MESSAGE_INDEX, "message", ["direction", "created_at"],
        postgresql_include=["conversation_id", "sender", "intent", "confidence"],
    )


def downgrade() -> None:
    op.drop_index(MESSAGE_INDEX, table_name="message")
    for name, table, _ in reversed(PERIOD_INDEXES):
        op.drop_index(name, table_name=table)
