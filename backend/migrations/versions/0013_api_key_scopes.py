"""api key scopes: what each machine client's key may do (NULL: everything)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 08:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: the keys issued before scopes keep every scope; no batch needed on SQLite.
    op.add_column("api_key", sa.Column("scopes", sa.String(length=100), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+), as 0012 does: no table copy.
    op.drop_column("api_key", "scopes")
