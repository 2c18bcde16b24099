"""What a dialog asks the backend to do; the engine applies them all in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from bot.facts import Offer


@dataclass(frozen=True)
class RecordPromise:
    """A promise to pay `amount` on `due` (an agreed extension is a promise of the balance)."""

    amount: Decimal
    due: date
    kind: str = "promise"


@dataclass(frozen=True)
class MovePromise:
    """Move the pending promise of `amount` due `old_due` to `new_due`: the same promise,
    the same amount, another day (never a second promise)."""

    amount: Decimal
    old_due: date
    new_due: date


@dataclass(frozen=True)
class RecordPlan:
    """An agreed plan or settlement with its exact schedule."""

    offer: Offer


@dataclass(frozen=True)
class IssuePaymentLink:
    """A signed payment link for `amount`; its URL becomes the reply slot `url`. `due`: the
    day the debtor is told to pay it by (the link opens until then); None for paying now."""

    amount: Decimal
    due: date | None = None


@dataclass(frozen=True)
class RecordDispute:
    """The debtor disputes the debt, in their own words; collection pauses."""

    reason: str


@dataclass(frozen=True)
class SetStopState:
    """attorney / bankruptcy / deceased / cease: collection stops until a human clears it."""

    state: str
    details: str


@dataclass(frozen=True)
class SetHardship:
    """The debtor reported hardship."""

    details: str


@dataclass(frozen=True)
class SetContactHours:
    """The debtor's own local hours: no message before `not_before` or after `not_after`
    (12 CFR 1006.6(b)(1)); both None clears what they designated before."""

    not_before: time | None = None
    not_after: time | None = None


@dataclass(frozen=True)
class RecordOptOut:
    """No more messages to this address, to the debtor's addresses on the channels named
    ("stop texting me" written in the portal), or to any of the debtor's addresses."""

    all_channels: bool = False
    reason: str = "opt_out"
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordOptIn:
    """The holder asked for messages here (START): lift this address's opt-out and record their
    consent on its channel."""

    keyword: str = "START"


@dataclass(frozen=True)
class MarkWrongParty:
    """The address does not belong to the debtor: suppress it for good."""


@dataclass(frozen=True)
class RecordPaymentClaim:
    """The debtor says they already paid; a human reconciles."""

    text: str
    amount: Decimal | None = None
    paid_on: date | None = None
    reference: str | None = None  # the payment's confirmation number, as the debtor wrote it


@dataclass(frozen=True)
class Handoff:
    """Give the conversation to a human queue; the bot goes silent."""

    reason: str
    queue: str = "general"
    priority: int = 0
    note: str | None = None
    error_id: str | None = None


@dataclass(frozen=True)
class Relink:
    """The identity answers matched another debtor holding this address: the conversation
    is theirs, on `account_id`, from now on."""

    debtor_id: int
    account_id: int


@dataclass(frozen=True)
class NarrowHolders:
    """On a shared address, the accounts whose holders' answers matched every factor so far
    (`after_factor` the last answered): the next answer is checked against them alone."""

    after_factor: int
    account_ids: tuple[int, ...]


@dataclass(frozen=True)
class ChargeFailedAnswer:
    """A wrong identity answer on a shared address counts against `account_id` too, so a
    guesser gains no tries from the number's other holders."""

    account_id: int


@dataclass(frozen=True)
class Audit:
    """A notable event of the turn, for the audit log (no message bodies)."""

    action: str
    detail: str | None = None


Effect = (
    RecordOptIn
    | RecordPromise
    | MovePromise
    | RecordPlan
    | IssuePaymentLink
    | RecordDispute
    | SetStopState
    | SetHardship
    | SetContactHours
    | RecordOptOut
    | MarkWrongParty
    | RecordPaymentClaim
    | Handoff
    | Relink
    | NarrowHolders
    | ChargeFailedAnswer
    | Audit
)
