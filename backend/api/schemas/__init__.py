"""Pydantic request and response schemas of the integration API."""
