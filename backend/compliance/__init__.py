"""Operator-editable compliance data (rules.yml), read by backend.services.compliance."""
