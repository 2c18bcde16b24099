"""Parley conversation engine: knows no provider, no SQL, no HTTP framework."""
