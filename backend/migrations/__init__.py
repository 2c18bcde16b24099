"""Alembic migrations of the Parley schema."""
