"""Every Parley table, importable from one place (Alembic reads the metadata from here)."""

from backend.db.base import Base
from backend.db.models.access import AgentUser, ApiKey
from backend.db.models.account import Account
from backend.db.models.audit import AuditEvent
from backend.db.models.conversation import Conversation, Handoff, Message
from backend.db.models.debtor import ContactPoint, Debtor
from backend.db.models.ledger import Dispute, Installment, Payment, PaymentPlan, Promise
from backend.db.models.portfolio import Creditor, Portfolio

__all__ = [
    "Account",
    "AgentUser",
    "ApiKey",
    "AuditEvent",
    "Base",
    "ContactPoint",
    "Conversation",
    "Creditor",
    "Debtor",
    "Dispute",
    "Handoff",
    "Installment",
    "Message",
    "Payment",
    "PaymentPlan",
    "Portfolio",
    "Promise",
]
