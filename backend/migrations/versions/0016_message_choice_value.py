"""message choice value: the data of the button a debtor pressed, beside the label stored as text

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 22:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: typed messages carry none; no batch needed on SQLite to add a column.
    op.add_column("message", sa.Column("choice_value", sa.String(64), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+), as 0014 does: a batch copy of `message` would break
    # the foreign keys that reference it.
    op.drop_column("message", "choice_value")
