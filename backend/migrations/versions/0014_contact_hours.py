"""contact hours: the local hours a debtor called inconvenient (12 CFR 1006.6(b)(1))

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 11:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("contact_not_before", "contact_not_after")


def upgrade() -> None:
    # Nullable: no debtor has designated hours yet; no batch needed on SQLite to add a column.
    for name in COLUMNS:
        op.add_column("debtor", sa.Column(name, sa.Time(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+), as 0012 does: a batch copy of `debtor` would break
    # the foreign keys of the accounts and contact points that reference it.
    for name in reversed(COLUMNS):
        op.drop_column("debtor", name)
