"""Every Parley table, importable from one place (Alembic reads the metadata from here)."""

from backend.db.base import Base
from backend.db.models.access import AgentUser, ApiKey
from backend.db.models.account import Account
from backend.db.models.audit import AuditEvent
from backend.db.models.console import AgentQueue, ConversationNote, IntentCorrection
from backend.db.models.conversation import Conversation, Handoff, Message, MessagePart
from backend.db.models.debtor import ContactPoint, Debtor
from backend.db.models.imports import ImportJob
from backend.db.models.ledger import Dispute, Installment, Payment, PaymentPlan, Promise
from backend.db.models.portfolio import Creditor, Portfolio
from backend.db.models.reports import ReportSnapshot
from backend.db.models.training import TrainingExample
from backend.db.models.workflow import AccountRisk, PlannedContact, Strategy, StrategyVersion

__all__ = [
    "Account",
    "AccountRisk",
    "AgentQueue",
    "AgentUser",
    "ApiKey",
    "AuditEvent",
    "Base",
    "ContactPoint",
    "Conversation",
    "ConversationNote",
    "Creditor",
    "Debtor",
    "Dispute",
    "Handoff",
    "ImportJob",
    "Installment",
    "IntentCorrection",
    "Message",
    "MessagePart",
    "Payment",
    "PaymentPlan",
    "PlannedContact",
    "Portfolio",
    "Promise",
    "ReportSnapshot",
    "Strategy",
    "StrategyVersion",
    "TrainingExample",
]
