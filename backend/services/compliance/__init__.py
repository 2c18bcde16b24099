"""The compliance gate: one decision, before anything is sent, recorded with its reason."""

from backend.services.compliance.gate import GateDecision, decide
from backend.services.compliance.rules import ComplianceRules, load_rules
from backend.services.compliance.service import ComplianceGate

__all__ = ["ComplianceGate", "ComplianceRules", "GateDecision", "decide", "load_rules"]
