"""console session version: logout and unlock end every session cookie issued before

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The default fills existing rows; no batch needed on SQLite.
    op.add_column("agent_user", sa.Column("session_version", sa.Integer(), nullable=False,
                                          server_default="0"))


def downgrade() -> None:
    op.drop_column("agent_user", "session_version")
