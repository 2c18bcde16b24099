"""import job creditor: the one creditor a queued file is for (NULL: agency-wide)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# A job queued by a bound key ("apikey:<prefix>") is that key's creditor's. Prefixes are not
# unique: a job whose prefix is shared by keys of different creditors (or an agency-wide key)
# stays NULL, seen by agency-wide keys only.
KEYS_OF_ACTOR = "FROM api_key WHERE 'apikey:' || api_key.prefix = import_job.actor"
BACKFILL = (
    f"UPDATE import_job SET creditor_id = (SELECT MIN(api_key.creditor_id) {KEYS_OF_ACTOR}) "
    f"WHERE (SELECT COUNT(DISTINCT COALESCE(api_key.creditor_id, 0)) {KEYS_OF_ACTOR}) = 1"
)


def upgrade() -> None:
    # A batch, because SQLite cannot add a foreign key to a table in place; no table
    # references import_job, so its copy breaks nothing.
    with op.batch_alter_table("import_job") as batch_op:
        batch_op.add_column(sa.Column("creditor_id", ID, nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_import_job_creditor_id_creditor"), "creditor", ["creditor_id"], ["id"]
        )
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("import_job") as batch_op:
        batch_op.drop_constraint(op.f("fk_import_job_creditor_id_creditor"), type_="foreignkey")
        batch_op.drop_column("creditor_id")
