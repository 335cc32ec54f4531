"""Invites: patient links (token hashes), the invite outbox, delivery state on appointments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 03:46:38.839957
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patient_link",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_patient_link_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_patient_link_token_hash")),
    )
    op.create_index(
        op.f("ix_patient_link_appointment_id"), "patient_link", ["appointment_id"], unique=False
    )
    op.create_table(
        "invite",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("batch", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_invite_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["patient_link.id"],
            name=op.f("fk_invite_link_id_patient_link"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite")),
    )
    op.create_index(op.f("ix_invite_appointment_id"), "invite", ["appointment_id"], unique=False)
    op.create_index("ix_invite_next_attempt_at", "invite", ["next_attempt_at"], unique=False)
    # Old appointments have sent no invite through this server: "" (unknown), like the default.
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.add_column(
            sa.Column("invite_status", sa.String(length=16), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("invite_error", sa.String(length=500), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.drop_column("invite_error")
        batch_op.drop_column("invite_status")
    op.drop_index("ix_invite_next_attempt_at", table_name="invite")
    op.drop_index(op.f("ix_invite_appointment_id"), table_name="invite")
    op.drop_table("invite")
    op.drop_index(op.f("ix_patient_link_appointment_id"), table_name="patient_link")
    op.drop_table("patient_link")
