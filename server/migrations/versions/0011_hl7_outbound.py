"""HL7 v2 outbound: SIU messages queued for the hospital's system until it ACKs them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hl7_outbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("control_id", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("ack", sa.Text(), nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointment.id"],
            name=op.f("fk_hl7_outbound_appointment_id_appointment"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hl7_outbound")),
    )
    op.create_index("ix_hl7_outbound_state_id", "hl7_outbound", ["state", "id"], unique=False)
    op.create_index(
        op.f("ix_hl7_outbound_appointment_id"), "hl7_outbound", ["appointment_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_hl7_outbound_appointment_id"), table_name="hl7_outbound")
    op.drop_index("ix_hl7_outbound_state_id", table_name="hl7_outbound")
    op.drop_table("hl7_outbound")
