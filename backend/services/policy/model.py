"""The negotiation policy of a portfolio, as a validated pydantic model."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.responses.catalog import WORDING_NAME, wordings

Factor = Literal["date_of_birth", "postal_code", "reference_last4"]
Frequency = Literal["weekly", "biweekly", "monthly"]
FREQUENCY_PREFERENCE: tuple[Frequency, ...] = ("monthly", "biweekly", "weekly")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VerificationPolicy(_Section):
    """Right-party verification: which factors, how many a person must give, how many tries,
    how long it lasts."""

    # In order of preference: a person is asked the first `min_factors` the account has on file.
    factors: list[Factor] = Field(default=["date_of_birth", "postal_code"], min_length=1)
    # None: every factor listed. An account with fewer on file goes to a person, never checked
    # on less (a ZIP alone is known to the whole household: compliance.md A.2 item 9).
    min_factors: int | None = Field(default=None, ge=1)
    max_attempts: int = Field(default=3, ge=1, le=10)
    verified_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60)
    reference_digits: int = Field(default=4, ge=2, le=8)

    @model_validator(mode="after")
    def _enough_listed(self) -> VerificationPolicy:
        listed = len(set(self.factors))
        if self.min_factors is not None and self.min_factors > listed:
            raise ValueError(f"min_factors cannot exceed the {listed} factors listed")
        return self

    @property
    def required(self) -> int:
        """How many factors a person must give."""
        return self.min_factors or len(set(self.factors))


class DiscountBand(_Section):
    """From this many days past due, a settlement may discount up to this percentage."""

    min_days_past_due: int = Field(ge=0)
    max_discount_pct: Decimal = Field(ge=0, le=90)


class SettlementPolicy(_Section):
    """Whether a reduced lump sum may close the account, by age of the debt."""

    allowed: bool = False
    bands: list[DiscountBand] = []
    pay_within_days: int = Field(default=14, ge=0, le=90)

    @model_validator(mode="after")
    def _ordered(self) -> SettlementPolicy:
        days = [b.min_days_past_due for b in self.bands]
        if days != sorted(set(days)):
            raise ValueError("bands must have increasing, distinct min_days_past_due")
        return self


class PlanPolicy(_Section):
    """Installment plans."""

    min_installment: Decimal = Field(default=Decimal("25.00"), ge=0)
    min_installment_pct: Decimal = Field(default=Decimal("0"), ge=0, le=100)
    max_months: int = Field(default=12, ge=1, le=120)
    frequencies: list[Frequency] = Field(default=["monthly"], min_length=1)
    min_down_payment: Decimal = Field(default=Decimal("0.00"), ge=0)
    first_payment_within_days: int = Field(default=14, ge=0, le=90)


class PromisePolicy(_Section):
    """Promises to pay."""

    max_days_out: int = Field(default=30, ge=0, le=365)
    min_amount: Decimal = Field(default=Decimal("10.00"), ge=0)
    # A moved promise is judged from the day it is moved, so without a limit each move buys
    # another `max_days_out` and the promise never falls due; past it, a person decides.
    max_moves: int = Field(default=1, ge=0, le=10)


class ExtensionPolicy(_Section):
    """More time to pay the balance."""

    max_days: int = Field(default=30, ge=1, le=365)


class NegotiationPolicy(_Section):
    """How long the bot negotiates before a person takes over."""

    max_rounds: int = Field(default=3, ge=1, le=20)


class ApprovalPolicy(_Section):
    """Beyond these, only a human may agree (the bot hands off)."""

    max_balance: Decimal | None = Field(default=None, ge=0)
    max_months: int | None = Field(default=None, ge=1, le=120)
    max_discount_pct: Decimal | None = Field(default=None, ge=0, le=90)


class HardshipPolicy(_Section):
    """What a debtor in hardship may be offered."""

    handoff: bool = False
    max_months: int = Field(default=24, ge=1, le=120)
    min_installment: Decimal = Field(default=Decimal("10.00"), ge=0)
    pause_days: int = Field(default=30, ge=1, le=180)


class Policy(_Section):
    """A portfolio's whole negotiation policy."""

    name: str = "default"
    wording: str | None = None
    verification: VerificationPolicy = Field(default_factory=VerificationPolicy)
    settlement: SettlementPolicy = Field(default_factory=SettlementPolicy)
    plan: PlanPolicy = Field(default_factory=PlanPolicy)
    promise: PromisePolicy = Field(default_factory=PromisePolicy)
    extension: ExtensionPolicy = Field(default_factory=ExtensionPolicy)
    negotiation: NegotiationPolicy = Field(default_factory=NegotiationPolicy)
    approval: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    hardship: HardshipPolicy = Field(default_factory=HardshipPolicy)

    @field_validator("wording")
    @classmethod
    def _known_wording(cls, value: str | None) -> str | None:
        # The name becomes a path under bot/responses/overrides/: only a folder that is there.
        if not value:
            return None
        known = wordings()
        if not WORDING_NAME.fullmatch(value) or value not in known:
            raise ValueError(
                "must name a folder under bot/responses/overrides/ (a-z, 0-9, _ and -); "
                f"known wordings: {', '.join(known) or 'none'}"
            )
        return value

    @property
    def frequencies(self) -> list[Frequency]:
        """Allowed frequencies, most preferred first."""
        return [f for f in FREQUENCY_PREFERENCE if f in self.plan.frequencies]
