"""Sync bookkeeping: the change log that pull reads, and the ledger of applied client mutations."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, Index, Integer, UniqueConstraint
from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime

#: 64-bit on PostgreSQL; SQLite autoincrements only an INTEGER primary key (64-bit there too).
_SEQ = BigInteger().with_variant(Integer(), "sqlite")


class Change(ServerTable, table=True):
    """One record changed (or left someone's view): pull returns the record's state after `seq`.

    `scope_id` says who sees the row: the clinician for an appointment, the user for a task,
    None for a patient (every clinician and clerk of the clinic).
    """

    __tablename__ = "change"
    # AUTOINCREMENT on SQLite: a sequence number is never handed out twice.
    __table_args__ = (
        Index("ix_change_scope_seq", "scope_id", "seq"),
        {"sqlite_autoincrement": True},
    )

    seq: int | None = Field(default=None, primary_key=True, sa_type=_SEQ)
    entity_type: str = Field(max_length=32)
    entity_id: UUID
    scope_id: UUID | None = None
    #: True for a tombstone: deleted, or no longer visible to `scope_id`.
    deleted: bool = False
    at: datetime = Field(sa_type=UTCDateTime)


class ClientMutation(ServerTable, table=True):
    """A mutation a client pushed, with the answer it got: a repeat gets the same answer."""

    __tablename__ = "client_mutation"
    __table_args__ = (UniqueConstraint("client_id", "client_seq", name="uq_client_mutation_seq"),)

    id: UUID = Field(primary_key=True)
    client_id: UUID
    client_seq: int = Field(sa_type=BigInteger)
    user_id: UUID = Field(foreign_key="user_account.id")
    intent: str = Field(max_length=32)
    #: The MutationResult as JSON.
    answer: str = Field(max_length=10_000)
    applied_at: datetime = Field(sa_type=UTCDateTime)


class FieldChange(ServerTable, table=True):
    """Which fields a record's version changed: lets an edit based on an older version through
    when nobody changed the same fields since (field-level merge)."""

    __tablename__ = "field_change"

    entity_type: str = Field(max_length=32, primary_key=True)
    entity_id: UUID = Field(primary_key=True)
    #: The version this change produced.
    version: int = Field(primary_key=True)
    #: Comma-separated field names.
    fields: str = Field(max_length=500)
