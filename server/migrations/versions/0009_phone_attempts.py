"""Phone attempts: each call dialled to a phone appointment's patient and how it ended.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 17:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "phone_attempt",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("caller_id", sa.Uuid(), nullable=False),
        sa.Column("caller_name", sa.String(length=200), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("sip_code", sa.Integer(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointment.id"],
            name=op.f("fk_phone_attempt_appointment_id_appointment"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["caller_id"], ["user_account.id"], name=op.f("fk_phone_attempt_caller_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_attempt")),
    )
    op.create_index(
        op.f("ix_phone_attempt_appointment_id"), "phone_attempt", ["appointment_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_phone_attempt_appointment_id"), table_name="phone_attempt")
    op.drop_table("phone_attempt")
