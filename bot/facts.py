"""The account snapshot a dialog reads: ledger figures, identity factors, flags and the policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

CENT = Decimal("0.01")
# A reference with too few digits to name by its ending is said whole up to this length.
WHOLE_REFERENCE_CHARS = 8


@dataclass(frozen=True)
class Installment:
    """One scheduled payment of an offer."""

    due: date
    amount: Decimal


@dataclass(frozen=True)
class PendingPromise(Installment):
    """A promise still pending: its day and amount, and how often it was moved already."""

    moves: int = 0


@dataclass(frozen=True)
class Offer:
    """Something the bot may propose or the debtor may ask for, in exact figures.

    kind: "full" (the balance now), "plan" (installments of the balance), "settlement"
    (a reduced total, paid by `first_due`), "promise" (an amount on a day), "extension"
    (the balance, later).
    """

    kind: str
    total: Decimal
    first_due: date
    schedule: tuple[Installment, ...] = ()
    frequency: str | None = None
    hardship: bool = False

    @property
    def count(self) -> int:
        """Number of installments (1 for anything that is not a plan)."""
        return len(self.schedule) or 1

    @property
    def installment(self) -> Decimal:
        """The regular installment (the first one), or the total."""
        return self.schedule[0].amount if self.schedule else self.total

    def to_dict(self) -> dict[str, object]:
        """A JSON-able form for working state."""
        return {
            "kind": self.kind, "total": str(self.total), "first_due": self.first_due.isoformat(),
            "frequency": self.frequency, "hardship": self.hardship,
            "schedule": [[i.due.isoformat(), str(i.amount)] for i in self.schedule],
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Offer:
        """The inverse of `to_dict`."""
        schedule = data.get("schedule") or []
        assert isinstance(schedule, list)
        return cls(
            kind=str(data["kind"]), total=Decimal(str(data["total"])),
            first_due=date.fromisoformat(str(data["first_due"])),
            schedule=tuple(Installment(date.fromisoformat(d), Decimal(a)) for d, a in schedule),
            frequency=None if data.get("frequency") is None else str(data["frequency"]),
            hardship=bool(data.get("hardship")),
        )


@dataclass(frozen=True)
class Verdict:
    """The policy's answer about one offer."""

    allowed: bool
    reason: str | None = None
    needs_human: bool = False  # inside hard bounds but beyond what the bot may agree alone


@dataclass(frozen=True)
class Terms:
    """What an offer is judged against: the ledger balance, the age of the debt, today."""

    balance: Decimal
    days_past_due: int
    today: date
    hardship: bool = False


@dataclass(frozen=True)
class Request:
    """The numbers a debtor asked for, any of them missing."""

    amount: Decimal | None = None
    due: date | None = None
    installments: int | None = None
    frequency: str | None = None


@dataclass(frozen=True)
class Answer:
    """The policy's reply to a request: the exact offer, a nearer allowed one, or a human."""

    offer: Offer | None
    exact: bool = False  # `offer` is what the debtor asked for
    needs_human: bool = False  # what they asked is allowed only with a human's approval


class OfferJudge(Protocol):
    """The policy, as the dialogs see it: judge offers, generate them, counter requests."""

    def check(self, offer: Offer, terms: Terms) -> Verdict:
        """Whether `offer` is inside the policy (the one decision every offer goes through)."""
        ...

    def proposals(self, terms: Terms) -> list[Offer]:
        """Payment in full first, then the plan options that fit (shortest, most affordable)."""
        ...

    def answer(self, kind: str, request: Request, terms: Terms) -> Answer:
        """The debtor's request as an offer when allowed, else the nearest allowed one."""
        ...


@dataclass(frozen=True)
class DialogPolicy:
    """The non-monetary knobs of the policy the dialogs need."""

    verification_factors: tuple[str, ...] = ("date_of_birth", "postal_code")
    min_verification_factors: int | None = None  # None: every factor listed
    max_verification_attempts: int = 3
    verified_ttl_minutes: int = 30
    reference_digits: int = 4
    max_rounds: int = 3
    hardship_handoff: bool = False
    hardship_pause_days: int = 30
    max_promise_moves: int = 1
    wording: str | None = None


@dataclass(frozen=True)
class Identity:
    """What a person must know to be the debtor; absent factors cannot be asked."""

    date_of_birth: date | None = None
    postal_code: str | None = None
    reference: str | None = None


@dataclass(frozen=True)
class Narrowed:
    """The accounts whose holders' answers matched every factor answered so far this round,
    the last of them `after_factor`: on a number several debtors hold, the next answer is
    checked against these alone."""

    after_factor: int
    account_ids: tuple[int, ...]


@dataclass(frozen=True)
class Facts:
    """Everything a dialog may read about the account behind a conversation."""

    account_id: int
    creditor: str
    reference: str
    currency: str
    balance: Decimal
    days_past_due: int
    today: date
    identity: Identity
    preferred_language: str = "en"
    stop_states: tuple[str, ...] = ()
    hardship: bool = False
    status: str = "active"
    channel: str = "sms"
    contact_opted_out: bool = False
    contact_wrong_party: bool = False
    active_plan: bool = False  # an agreed plan takes every payment until it ends
    settlement_left: Decimal | None = None  # what an agreed settlement still needs
    settlement_due: date | None = None  # the day its last unpaid part is due (its deadline)
    promised: Decimal = Decimal(0)  # what pending promises still cover of the balance
    pending_promises: tuple[Installment, ...] = ()  # their days and amounts (PendingPromise)
    # Wrong identity answers on the account lately, any channel, since its last verification:
    # audited, so a restart or an expired dialog state gives none of them back.
    identity_failures: int = 0
    # Replies since the debtor's previous message were dropped because their verification ran
    # out before the morning (backend/services/outbox.py VERIFICATION_EXPIRED): unheard.
    replies_dropped: bool = False
    policy: DialogPolicy = field(default_factory=DialogPolicy)
    judge: OfferJudge | None = None
    # The portfolio's stored policy failed validation: `policy` and `judge` are the shipped
    # default's, there for the safe path only (the engine hands the turn to a person rather
    # than answer on terms the creditor never set).
    policy_unreadable: bool = False
    debtor_id: int | None = None
    # The other debtors with an active account holding this address (a family phone), each
    # as the facts of their most pressing account: identity decides who is writing.
    holders: tuple[Facts, ...] = ()
    narrowed: Narrowed | None = None

    @property
    def terms(self) -> Terms:
        """The terms offers are judged against."""
        return Terms(self.balance, self.days_past_due, self.today, self.hardship)

    @property
    def reference_tail(self) -> str:
        """What a verified debtor may be shown of the reference: its last digits; the whole
        of a short one holding too few ("PI-1", see `reference_whole`); else its last
        characters ("ACME-EUR-LEGACY" has no digits to show)."""
        if self.reference_whole:
            return self.reference
        digits = "".join(ch for ch in self.reference if ch.isdigit())
        count = self.policy.reference_digits
        return digits[-count:] if len(digits) >= count else self.reference[-count:]

    @property
    def reference_whole(self) -> bool:
        """True when sentences name the reference whole ("your account PI-1"), not by how it
        ends: it holds fewer digits than the policy shows, and is short enough to say."""
        digits = sum(ch.isdigit() for ch in self.reference)
        return (digits < self.policy.reference_digits
                and len(self.reference) <= WHOLE_REFERENCE_CHARS)

    @property
    def paid(self) -> bool:
        """True when nothing is owed."""
        return self.balance <= 0
