"""Bounds of numbers the database can hold: a larger value is refused with 422, not a crash."""

#: The largest BIGINT (PostgreSQL) and SQLite INTEGER.
MAX_INT64 = 2**63 - 1
