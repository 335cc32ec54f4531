"""Clinic Desk hosted backend (built by the backend issue)."""
