"""Who assigned each patient's MRN, and deleted (archived) patient lists.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patient") as batch:
        batch.add_column(sa.Column("mrn_authority", sa.String(length=64), nullable=False,
                                   server_default=""))
    with op.batch_alter_table("patient_list") as batch:
        batch.add_column(sa.Column("archived", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("patient_list") as batch:
        batch.drop_column("archived")
    with op.batch_alter_table("patient") as batch:
        batch.drop_column("mrn_authority")
