"""Shared presence for several server processes: processes, waiting-room pages, call owners.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "server_process",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_process")),
    )
    op.create_index(
        op.f("ix_server_process_expires_at"), "server_process", ["expires_at"], unique=False
    )
    op.create_table(
        "presence_room",
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_presence_room_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("appointment_id", name=op.f("pk_presence_room")),
    )
    op.create_table(
        "presence_page",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("person", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["presence_room.appointment_id"],
            name=op.f("fk_presence_page_appointment_id_presence_room"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presence_page")),
    )
    op.create_index(
        op.f("ix_presence_page_appointment_id"), "presence_page", ["appointment_id"], unique=False
    )
    op.create_index(
        op.f("ix_presence_page_process_id"), "presence_page", ["process_id"], unique=False
    )
    op.create_table(
        "call_owner",
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_call_owner_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_call_owner_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("appointment_id", name=op.f("pk_call_owner")),
    )
    op.create_index(
        op.f("ix_call_owner_connection_id"), "call_owner", ["connection_id"], unique=False
    )
    op.create_index(op.f("ix_call_owner_process_id"), "call_owner", ["process_id"], unique=False)


def downgrade() -> None:
    op.drop_table("call_owner")
    op.drop_table("presence_page")
    op.drop_table("presence_room")
    op.drop_table("server_process")
