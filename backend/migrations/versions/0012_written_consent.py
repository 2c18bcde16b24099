"""written consent: when a debtor consented in writing to electronic contact (NYC)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 07:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: nobody has given it yet; no batch needed on SQLite to add a column.
    op.add_column("debtor", sa.Column("written_consent_at", backend.db.types.UtcDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of `debtor` would break the foreign
    # keys of the accounts and contact points that reference it.
    op.drop_column("debtor", "written_consent_at")
