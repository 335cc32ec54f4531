"""HL7 v2: the raw message log of the MLLP listener (duplicates, admin's search, replay).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hl7_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("control_id", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("ack_code", sa.String(length=2), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("ack", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hl7_message")),
    )
    op.create_index(
        "ix_hl7_message_sender_control", "hl7_message", ["sender", "control_id"], unique=False
    )
    op.create_index(
        op.f("ix_hl7_message_received_at"), "hl7_message", ["received_at"], unique=False
    )
    op.create_index(op.f("ix_hl7_message_subject"), "hl7_message", ["subject"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_hl7_message_subject"), table_name="hl7_message")
    op.drop_index(op.f("ix_hl7_message_received_at"), table_name="hl7_message")
    op.drop_index("ix_hl7_message_sender_control", table_name="hl7_message")
    op.drop_table("hl7_message")
