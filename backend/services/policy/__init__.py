"""Negotiation policy: model, loading, the one offer decision, offer generation, storage."""

from backend.services.policy.judge import PolicyJudge, dialog_policy
from backend.services.policy.loader import PolicyError, load_policy_file, parse_policy
from backend.services.policy.model import Policy
from backend.services.policy.rules import evaluate

__all__ = [
    "Policy",
    "PolicyError",
    "PolicyJudge",
    "dialog_policy",
    "evaluate",
    "load_policy_file",
    "parse_policy",
]
