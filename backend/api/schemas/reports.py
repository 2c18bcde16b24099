"""Schemas of the reports API (stable: BI tools read them). Money and rates are exact decimals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class RowPublic(BaseModel):
    """Rows are read from the report dataclasses."""

    model_config = ConfigDict(from_attributes=True)


class FilterPublic(RowPublic):
    """The filter the figures were computed with."""

    start: date | None
    end: date | None
    portfolio_id: int | None
    creditor_id: int | None
    currency: str | None = None  # money adds up within one currency; None: all of them


class RecoveryRowPublic(RowPublic):
    """Placed and collected for one slice of the accounts placed in the period."""

    key: str
    label: str
    accounts: int
    placed: Decimal
    collected: Decimal
    recovery_rate: Decimal | None


class AgingRowPublic(RowPublic):
    """The open balance of one days-past-due bucket."""

    bucket: str
    open_accounts: int
    open_balance: Decimal
    share: Decimal | None


class PaymentMixRowPublic(RowPublic):
    """Payments through one channel with one method."""

    channel: str
    method: str
    payments: int
    amount: Decimal


class CashRowPublic(RowPublic):
    """Payments received in one ISO week (its Monday)."""

    week: str
    payments: int
    amount: Decimal


class RecoveryPublic(RowPublic):
    """`GET /api/reports/recovery`."""

    filter: FilterPublic
    as_of: date
    totals: list[RecoveryRowPublic]
    by_portfolio: list[RecoveryRowPublic]
    by_creditor: list[RecoveryRowPublic]
    by_dpd_bucket: list[RecoveryRowPublic]
    by_week: list[RecoveryRowPublic]
    aging: list[AgingRowPublic]
    payments_by_channel: list[PaymentMixRowPublic]
    collected_by_week: list[CashRowPublic]


class RateRowPublic(RowPublic):
    """One rate with the counts it is made of."""

    metric: str
    numerator: int
    denominator: int
    rate: Decimal | None


class PromiseRowPublic(RowPublic):
    """Promises made in the period, by status."""

    status: str
    promises: int
    amount: Decimal
    paid_amount: Decimal


class PlanRowPublic(RowPublic):
    """Plans created in the period, by status; settlements among them."""

    status: str
    plans: int
    total: Decimal
    settlements: int
    settlement_total: Decimal


class CountRowPublic(RowPublic):
    """A count under a name."""

    name: str
    count: int


class OutcomesPublic(RowPublic):
    """`GET /api/reports/outcomes`."""

    filter: FilterPublic
    rates: list[RateRowPublic]
    promises_by_status: list[PromiseRowPublic]
    plans_by_status: list[PlanRowPublic]
    disputes_by_status: list[CountRowPublic]
    stop_states: list[CountRowPublic]


class ContainmentRowPublic(RowPublic):
    """Conversations on one channel: bot alone or handed off."""

    channel: str
    conversations: int
    bot_only: int
    handed_off: int
    containment_rate: Decimal | None


class HandoffRowPublic(RowPublic):
    """Handoffs of one queue and reason against the first-response target."""

    queue: str
    reason: str
    handoffs: int
    claimed: int
    closed: int
    target_seconds: int
    within_target: int
    within_target_rate: Decimal | None
    avg_first_response_seconds: float | None
    max_first_response_seconds: int | None


class AgentRowPublic(RowPublic):
    """What one agent did in the period."""

    agent_id: int
    name: str
    claimed: int
    closed: int
    avg_first_response_seconds: float | None
    avg_handle_seconds: float | None
    messages_sent: int


class AutomationPublic(RowPublic):
    """`GET /api/reports/automation`."""

    filter: FilterPublic
    containment: list[ContainmentRowPublic]
    handoffs: list[HandoffRowPublic]
    agents: list[AgentRowPublic]


class NluSummaryRowPublic(RowPublic):
    """Inbound messages of the period at a glance."""

    messages: int
    low_confidence: int
    low_confidence_rate: Decimal | None
    corrected: int
    corrected_rate: Decimal | None


class IntentRowPublic(RowPublic):
    """Inbound messages read as one intent."""

    intent: str
    messages: int
    share: Decimal | None
    low_confidence: int
    low_confidence_rate: Decimal | None
    avg_confidence: float | None


class CorrectionRowPublic(RowPublic):
    """Agents' relabellings from one intent to another."""

    original_intent: str
    corrected_intent: str
    corrections: int


class NluHealthPublic(RowPublic):
    """`GET /api/reports/nlu`."""

    filter: FilterPublic
    threshold: float
    summary: list[NluSummaryRowPublic]
    intents: list[IntentRowPublic]
    corrections: list[CorrectionRowPublic]


class StepRowPublic(RowPublic):
    """Workflow sends of one strategy step and variant, and the responses credited to them."""

    strategy: str
    step: str
    variant: str | None
    sent: int
    delivered: int
    replied: int
    promised: int
    paid: int
    collected: Decimal
    delivery_rate: Decimal | None
    reply_rate: Decimal | None
    promise_rate: Decimal | None
    pay_rate: Decimal | None
    collected_per_send: Decimal | None


class StrategyPublic(RowPublic):
    """`GET /api/reports/strategy`."""

    filter: FilterPublic
    window_days: int
    totals: list[StepRowPublic]
    steps: list[StepRowPublic]
