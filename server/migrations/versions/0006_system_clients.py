"""FHIR: the system clients (OAuth2 client credentials); appointments indexed by start.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "system_client",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=1000), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_system_client_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_client")),
        sa.UniqueConstraint("client_id", name=op.f("uq_system_client_client_id")),
    )
    op.create_index("ix_appointment_start", "appointment", ["start"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_appointment_start", table_name="appointment")
    op.drop_table("system_client")
