"""Handoff configuration shipped with Parley (queues, routing rules, response-time targets)."""
