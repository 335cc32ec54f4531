"""The desktop's local SQLite store (SQLModel): every write lands here first."""
