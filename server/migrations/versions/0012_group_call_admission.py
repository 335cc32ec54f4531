"""Group calls: participants wait to be admitted by the clinician (who was let in, and when).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("group_call_member") as table:
        table.add_column(sa.Column("admitted_at", sa.DateTime(timezone=True), nullable=True))
    # Everyone given a credential before admission existed was in: they are not asked again.
    op.execute("UPDATE group_call_member SET admitted_at = joined_at")


def downgrade() -> None:
    with op.batch_alter_table("group_call_member") as table:
        table.drop_column("admitted_at")
