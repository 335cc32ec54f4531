"""Sync: the change log pull reads, the ledger of client mutations, changed fields per version.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 02:14:11.367869
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("scope_id", sa.Uuid(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_change_scope_seq", "change", ["scope_id", "seq"], unique=False)
    op.create_table(
        "client_mutation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("client_seq", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("intent", sa.String(length=32), nullable=False),
        sa.Column("answer", sa.String(length=10000), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_client_mutation_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_mutation")),
        sa.UniqueConstraint("client_id", "client_seq", name="uq_client_mutation_seq"),
    )
    op.create_table(
        "field_change",
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fields", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint(
            "entity_type", "entity_id", "version", name=op.f("pk_field_change")
        ),
    )


def downgrade() -> None:
    op.drop_table("field_change")
    op.drop_table("client_mutation")
    op.drop_index("ix_change_scope_seq", table_name="change")
    op.drop_table("change")
