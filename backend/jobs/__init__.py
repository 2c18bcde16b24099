"""Background jobs: the in-process scheduler (embedded) and the worker entry point."""
