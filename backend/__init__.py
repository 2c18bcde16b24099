"""Parley backend: FastAPI app, storage, services, jobs and CLI."""
