"""Schemas of the accounts integration API (stable: integrations depend on them)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.services.policy.money import is_whole, minor_unit

DpdBucket = Literal["current", "1-30", "31-60", "61-90", "91-180", "181+"]


class AccountCreate(BaseModel):
    """One account, upserted by (creditor, external_ref) — the same fields as a CSV row.

    A field left out (or null) of an update keeps what is stored about the debtor; a new
    debtor gets the defaults (country US, language en, timezone from the state or phone).
    """

    external_ref: str = Field(min_length=1, max_length=64)
    creditor: str = Field(min_length=1, max_length=200)
    portfolio: str = Field(min_length=1, max_length=200)
    debtor_name: str = Field(min_length=1, max_length=200)
    phone: str | None = None
    email: str | None = None
    date_of_birth: date | None = None
    postal_code: str | None = None
    state: str | None = None
    country: str | None = None
    timezone: str | None = None
    currency: str = Field(min_length=3, max_length=3)
    balance: Decimal
    original_balance: Decimal | None = None
    due_date: date
    preferred_language: Literal["en", "es"] | None = None
    # Kept as text so the import's strict rules apply (an offset is required, not assumed).
    whatsapp_phone: str | None = None
    whatsapp_opt_in_at: str | None = None
    written_consent_at: str | None = None


class ContactPublic(BaseModel):
    """A contact point with its consent and opt-out state."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    channel: str
    address: str
    consent: bool
    opted_out_at: datetime | None
    opt_out_reason: str | None
    wrong_party: bool


class DebtorPublic(BaseModel):
    """The person behind an account."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    full_name: str
    date_of_birth: date | None
    postal_code: str | None
    region: str | None
    country: str
    timezone: str
    preferred_language: str
    written_consent_at: datetime | None
    contacts: list[ContactPublic]


class PaymentPublic(BaseModel):
    """A payment received."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    amount: Decimal
    currency: str
    paid_at: datetime
    method: str
    channel: str | None
    source: str
    reference: str
    alias: str | None = Field(default=None, description=(
        "the payment's other reference: the billing system's own (a provider's"
        " `metadata.reference`) when the provider's delivery posted it first, else the"
        " provider's; a post under either finds this payment"))
    refunded_amount: Decimal = Field(description="what the provider has given back of it")


class PromisePublic(BaseModel):
    """A promise to pay."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    amount: Decimal
    due_date: date
    status: str
    paid_amount: Decimal
    channel: str | None
    conversation_id: int | None
    created_at: datetime


class InstallmentPublic(BaseModel):
    """One installment of a plan."""

    model_config = ConfigDict(from_attributes=True)
    seq: int
    due_date: date
    amount: Decimal
    paid_amount: Decimal
    status: str


class PlanPublic(BaseModel):
    """A payment plan with its schedule."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    total: Decimal
    down_payment: Decimal
    frequency: str
    is_settlement: bool
    status: str
    channel: str | None
    conversation_id: int | None
    created_at: datetime
    installments: list[InstallmentPublic]


class DisputePublic(BaseModel):
    """A dispute of the debt."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    reason: str
    status: str
    conversation_id: int | None
    opened_at: datetime
    resolved_at: datetime | None


class ConversationSummary(BaseModel):
    """A conversation about the account, with who owns it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    channel: str
    ownership: str
    started_at: datetime
    last_message_at: datetime
    handoff_queue: str | None = None
    handoff_reason: str | None = None


class PlannedContactPublic(BaseModel):
    """A contact the collections workflow plans (or projects, or holds back), and why."""

    model_config = ConfigDict(from_attributes=True)
    step: str | None
    status: str
    due_at: datetime | None
    channel: str | None
    reason: str
    strategy: str | None = None


class AccountPublic(BaseModel):
    """An account in a listing."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    external_ref: str
    creditor: str
    portfolio: str
    portfolio_id: int
    debtor_id: int
    debtor_name: str
    currency: str
    original_balance: Decimal
    current_balance: Decimal
    due_date: date
    days_past_due: int
    dpd_bucket: DpdBucket
    status: str
    stop_states: list[str]

    @model_validator(mode="after")
    def _in_minor_units(self) -> AccountPublic:
        """Every amount of the account, its payments and agreements shown in the currency's
        minor units (146668 yen, not 146668.00)."""
        _quantize(self, self.currency)
        return self


def in_minor_units(amount: Decimal, currency: str) -> Decimal:
    """`amount` with as many decimals as `currency` has; one finer than that is left as it
    is, never rounded away."""
    return amount.quantize(minor_unit(currency)) if is_whole(amount, currency) else amount


def _quantize(model: BaseModel, currency: str) -> None:
    for name, value in model:
        if isinstance(value, Decimal):
            setattr(model, name, in_minor_units(value, currency))
        elif isinstance(value, BaseModel):
            _quantize(value, currency)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, BaseModel):
                    _quantize(item, currency)


class AccountDetail(AccountPublic):
    """Everything known about one account."""

    debtor: DebtorPublic
    payments: list[PaymentPublic]
    promises: list[PromisePublic]
    plans: list[PlanPublic]
    disputes: list[DisputePublic]
    conversations: list[ConversationSummary]
    portal_url: str | None = None
    planned_contacts: list[PlannedContactPublic] = []


class AccountUpserted(AccountDetail):
    """What an upsert wrote, as GET shows it, to a key with the `read` scope."""

    created: bool = Field(description="true for a new account (201), false for an update (200)")
    ignored: list[str] = Field(default_factory=list, description=(
        "fields sent but not applied: an update never changes the balance (the ledger's)"))


class AccountWritten(BaseModel):
    """What an upsert wrote, to a key without the `read` scope: only what identifies it."""

    id: int
    external_ref: str
    status: str
    created: bool = Field(description="true for a new account (201), false for an update (200)")
    ignored: list[str] = Field(default_factory=list, description=(
        "fields sent but not applied: an update never changes the balance (the ledger's)"))


class AccountPage(BaseModel):
    """One page of accounts."""

    items: list[AccountPublic]
    total: int
    limit: int
    offset: int


class ImportErrorPublic(BaseModel):
    """Why a row (or the header, row 1) was rejected."""

    row: int
    column: str
    reason: str


class ImportResult(BaseModel):
    """What an import did."""

    total: int
    created: int
    updated: int
    written: bool
    rejected_rows: int
    errors: list[ImportErrorPublic]


class ImportJobPublic(BaseModel):
    """An accounts file queued for, run by, or done by the import job."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    filename: str
    status: str  # queued | running | done | rejected (invalid rows, nothing written) | failed
    creditor_id: int | None = None  # the creditor it was queued for; None: agency-wide
    attempts: int
    report: dict[str, Any] | None = None
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
