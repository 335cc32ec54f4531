"""Patient lists: the clinic's named lists of patients and their members.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patient_list",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"],
            name=op.f("fk_patient_list_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_list")),
    )
    op.create_table(
        "patient_list_member",
        sa.Column("list_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"], ["patient_list.id"],
            name=op.f("fk_patient_list_member_list_id_patient_list"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_patient_list_member_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("list_id", "position", name=op.f("pk_patient_list_member")),
    )
    op.create_index(
        op.f("ix_patient_list_member_patient_id"), "patient_list_member", ["patient_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_patient_list_member_patient_id"), table_name="patient_list_member")
    op.drop_table("patient_list_member")
    op.drop_table("patient_list")
