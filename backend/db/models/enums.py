"""The closed vocabularies stored in the database (as plain strings, so migrations stay simple)."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """A way to reach a debtor."""

    SMS = "sms"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    EMAIL = "email"
    WEB = "web"


class AccountStatus(StrEnum):
    """Where an account stands in its collection."""

    ACTIVE = "active"
    PAID = "paid"
    SETTLED = "settled"
    CLOSED = "closed"


class StopState(StrEnum):
    """Flags that stop or pause collection on an account."""

    DISPUTE = "dispute"
    CEASE = "cease"
    ATTORNEY = "attorney"
    BANKRUPTCY = "bankruptcy"
    DECEASED = "deceased"
    HARDSHIP = "hardship"


class PromiseStatus(StrEnum):
    """Lifecycle of a promise to pay."""

    PENDING = "pending"
    KEPT = "kept"
    PARTIALLY_KEPT = "partially_kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class PlanStatus(StrEnum):
    """Lifecycle of a payment plan."""

    ACTIVE = "active"
    COMPLETED = "completed"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class InstallmentStatus(StrEnum):
    """Lifecycle of one installment of a plan."""

    DUE = "due"
    PAID = "paid"
    PARTIAL = "partial"
    MISSED = "missed"


class DisputeStatus(StrEnum):
    """Lifecycle of a dispute."""

    OPEN = "open"
    VERIFIED = "verified"
    RESOLVED = "resolved"


class Ownership(StrEnum):
    """Who drives a conversation."""

    BOT = "bot"
    QUEUED = "queued"
    AGENT = "agent"
    RESOLVED = "resolved"


class Direction(StrEnum):
    """Which way a message travelled."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class DeliveryStatus(StrEnum):
    """Delivery state of a message, ranked so a late callback never moves it backwards."""

    RECEIVED = "received"
    PENDING = "pending"
    DEFERRED = "deferred"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    UNDELIVERED = "undelivered"
    BLOCKED = "blocked"


class Role(StrEnum):
    """What a console user may do."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    TRAINER = "trainer"
    ADMIN = "admin"
