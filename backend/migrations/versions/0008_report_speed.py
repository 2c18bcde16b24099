"""report speed: sends keep their delivery state, conversations their portfolio, snapshots

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import backend.db.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = backend.db.types.UtcDateTime(timezone=True)
# (table, column, referred table, type)
NEW_COLUMNS = (
    ("conversation", "portfolio_id", "portfolio", ID),
    ("planned_contact", "conversation_id", "conversation", ID),
    ("planned_contact", "delivery_status", None, sa.String(length=16)),
)
INDEXES = (
    ("ix_conversation_portfolio_id_started_at", "conversation", ["portfolio_id", "started_at"]),
    ("ix_planned_contact_message_id", "planned_contact", ["message_id"]),
)
SENDS_INDEX = "ix_planned_contact_status_updated_at"
SEND_COLUMNS = ("id", "account_id", "strategy_version_id", "step", "variant", "delivery_status",
                "conversation_id")
BACKFILL = (
    "UPDATE conversation SET portfolio_id = (SELECT a.portfolio_id FROM account a"
    " WHERE a.id = conversation.account_id) WHERE account_id IS NOT NULL",
    "UPDATE planned_contact SET (delivery_status, conversation_id) = (SELECT m.delivery_status,"
    " m.conversation_id FROM message m WHERE m.id = planned_contact.message_id)"
    " WHERE message_id IS NOT NULL",
)


def _add_column(table: str, column: str, referred: str | None, type_: sa.types.TypeEngine) -> None:
    if referred is None:
        op.add_column(table, sa.Column(column, type_, nullable=True))
        return
    name = f"fk_{table}_{column}_{referred}"
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in place; a batch would copy the table.
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER"
                   f" CONSTRAINT {name} REFERENCES {referred} (id)")
        return
    op.add_column(table, sa.Column(column, type_, nullable=True))
    op.create_foreign_key(name, table, referred, [column], ["id"])


def upgrade() -> None:
    for table, column, referred, type_ in NEW_COLUMNS:
        _add_column(table, column, referred, type_)
    for statement in BACKFILL:
        op.execute(statement)
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    # PostgreSQL answers the strategy page's sends from the index alone (INCLUDE).
    op.create_index(SENDS_INDEX, "planned_contact", ["status", "updated_at"],
                    postgresql_include=list(SEND_COLUMNS))
    op.create_table(
        "report_snapshot",
        sa.Column("page", sa.String(length=32), nullable=False),
        sa.Column("options", sa.String(length=400), nullable=False),
        sa.Column("today", sa.Date(), nullable=False),
        sa.Column("computed_at", WHEN, nullable=False),
        sa.Column("report", JSON, nullable=False),
        sa.PrimaryKeyConstraint("page", "options", name=op.f("pk_report_snapshot")),
    )


def downgrade() -> None:
    op.drop_table("report_snapshot")
    op.drop_index(SENDS_INDEX, table_name="planned_contact")
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, referred, _ in reversed(NEW_COLUMNS):
        if sqlite:
            # In place too: a batch would drop and copy tables other rows refer to.
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
            continue
        if referred is not None:
            op.drop_constraint(f"fk_{table}_{column}_{referred}", table, type_="foreignkey")
        op.drop_column(table, column)
