"""Clinic Desk hosted backend: FastAPI + SQLModel + Alembic (see server/app.py, server/main.py)."""
