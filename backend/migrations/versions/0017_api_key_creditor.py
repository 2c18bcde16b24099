"""api key creditor: the one creditor a machine client's key reaches (NULL: every creditor)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 01:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Nullable: the keys issued before stay agency-wide. A batch, because SQLite cannot add a
    # foreign key to a table in place; no table references api_key, so its copy breaks nothing.
    with op.batch_alter_table("api_key") as batch_op:
        batch_op.add_column(sa.Column("creditor_id", ID, nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_api_key_creditor_id_creditor"), "creditor", ["creditor_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("api_key") as batch_op:
        batch_op.drop_constraint(op.f("fk_api_key_creditor_id_creditor"), type_="foreignkey")
        batch_op.drop_column("creditor_id")
