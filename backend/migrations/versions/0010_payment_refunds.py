"""payment refunds: how much of a posted payment the provider has given back

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The default fills existing rows (nothing refunded yet); no batch needed on SQLite.
    op.add_column("payment", sa.Column(
        "refunded_amount", backend.db.types.Money(precision=18, scale=2), nullable=False,
        server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("payment") as batch:
        batch.drop_column("refunded_amount")
