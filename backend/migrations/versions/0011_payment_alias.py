"""payment alias: the other reference one payment is known by (provider key or billing reference)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 07:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payment") as batch:
        batch.add_column(sa.Column("alias", sa.String(length=128), nullable=True))
        batch.create_unique_constraint(
            batch.f("uq_payment_account_id_alias"), ["account_id", "alias"]
        )


def downgrade() -> None:
    with op.batch_alter_table("payment") as batch:
        batch.drop_constraint(batch.f("uq_payment_account_id_alias"), type_="unique")
        batch.drop_column("alias")
