"""The negotiation policy of a portfolio, as a validated pydantic model."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from backend.services.compliance.debt_mentions import debt_mention, threat_mention
from bot.responses.catalog import WORDING_NAME, wording_problems, wordings

MAX_IDENTITY_ATTEMPTS = 2
Factor = Literal["date_of_birth", "postal_code", "reference_last4"]
Frequency = Literal["weekly", "biweekly", "monthly"]
FREQUENCY_PREFERENCE: tuple[Frequency, ...] = ("monthly", "biweekly", "weekly")
T = TypeVar("T")
# Amounts and percentages to the cent: "25.005" would be rounded somewhere, silently.
TwoDecimals = Annotated[Decimal, Field(decimal_places=2)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VerificationPolicy(_Section):
    """Right-party verification: which factors, how many a person must give, how many tries,
    how long it lasts."""

    # In order of preference: a person is asked the first `min_factors` the account has on file.
    # At least two, none checked on less: a ZIP alone is known to the whole household
    # (compliance.md A.2 item 9: "DOB or ZIP + last-4").
    factors: list[Factor] = Field(default=["date_of_birth", "postal_code"], min_length=2)
    # None: every factor listed. An account with fewer on file goes to a person.
    min_factors: StrictInt | None = Field(default=None, ge=2)
    max_attempts: StrictInt = Field(default=2, ge=1)
    verified_ttl_minutes: StrictInt = Field(default=30, ge=1, le=24 * 60)
    reference_digits: StrictInt = Field(default=4, ge=2, le=8)

    @field_validator("factors")
    @classmethod
    def _distinct_factors(cls, value: list[Factor]) -> list[Factor]:
        return _distinct(value)

    @field_validator("max_attempts")
    @classmethod
    def _two_answers_at_most(cls, value: int) -> int:
        # compliance.md A.2 item 9: "Failed verification twice → stop and offer a call-back
        # number only", so no policy may allow a third wrong answer.
        if value > MAX_IDENTITY_ATTEMPTS:
            raise ValueError(f"at most {MAX_IDENTITY_ATTEMPTS}: verification stops after two "
                             "failed answers (compliance.md A.2 item 9, 12 CFR 1006.6(d))")
        return value

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

    min_days_past_due: StrictInt = Field(ge=0)
    max_discount_pct: TwoDecimals = Field(ge=0, le=90)


class SettlementPolicy(_Section):
    """Whether a reduced lump sum may close the account, by age of the debt."""

    allowed: StrictBool = False
    bands: list[DiscountBand] = []
    pay_within_days: StrictInt = Field(default=14, ge=0, le=90)

    @model_validator(mode="after")
    def _ordered(self) -> SettlementPolicy:
        days = [b.min_days_past_due for b in self.bands]
        if days != sorted(set(days)):
            raise ValueError("bands must have increasing, distinct min_days_past_due")
        return self


class PlanPolicy(_Section):
    """Installment plans."""

    min_installment: TwoDecimals = Field(default=Decimal("25.00"), ge=0)
    min_installment_pct: TwoDecimals = Field(default=Decimal("0"), ge=0, le=100)
    max_months: StrictInt = Field(default=12, ge=1, le=120)
    frequencies: list[Frequency] = Field(default=["monthly"], min_length=1)
    min_down_payment: TwoDecimals = Field(default=Decimal("0.00"), ge=0)
    first_payment_within_days: StrictInt = Field(default=14, ge=0, le=90)

    @field_validator("frequencies")
    @classmethod
    def _distinct_frequencies(cls, value: list[Frequency]) -> list[Frequency]:
        return _distinct(value)


class PromisePolicy(_Section):
    """Promises to pay."""

    max_days_out: StrictInt = Field(default=30, ge=0, le=365)
    min_amount: TwoDecimals = Field(default=Decimal("10.00"), ge=0)
    # A moved promise is judged from the day it is moved, so without a limit each move buys
    # another `max_days_out` and the promise never falls due; past it, a person decides.
    max_moves: StrictInt = Field(default=1, ge=0, le=10)


class ExtensionPolicy(_Section):
    """More time to pay the balance."""

    max_days: StrictInt = Field(default=30, ge=1, le=365)


class NegotiationPolicy(_Section):
    """How long the bot negotiates before a person takes over."""

    max_rounds: StrictInt = Field(default=3, ge=1, le=20)


class ApprovalPolicy(_Section):
    """Beyond these, only a human may agree (the bot hands off)."""

    max_balance: TwoDecimals | None = Field(default=None, ge=0)
    max_months: StrictInt | None = Field(default=None, ge=1, le=120)
    max_discount_pct: TwoDecimals | None = Field(default=None, ge=0, le=90)


class HardshipPolicy(_Section):
    """What a debtor in hardship may be offered."""

    handoff: StrictBool = False
    max_months: StrictInt = Field(default=24, ge=1, le=120)
    min_installment: TwoDecimals = Field(default=Decimal("10.00"), ge=0)
    pause_days: StrictInt = Field(default=30, ge=1, le=180)


NAME_LENGTH = 80


class Policy(_Section):
    """A portfolio's whole negotiation policy."""

    name: StrictStr = Field(default="default", max_length=NAME_LENGTH)
    wording: str | None = None
    verification: VerificationPolicy = Field(default_factory=VerificationPolicy)
    settlement: SettlementPolicy = Field(default_factory=SettlementPolicy)
    plan: PlanPolicy = Field(default_factory=PlanPolicy)
    promise: PromisePolicy = Field(default_factory=PromisePolicy)
    extension: ExtensionPolicy = Field(default_factory=ExtensionPolicy)
    negotiation: NegotiationPolicy = Field(default_factory=NegotiationPolicy)
    approval: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    hardship: HardshipPolicy = Field(default_factory=HardshipPolicy)

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

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
        # Refused here, not mid-conversation: a file the bot cannot say silences it.
        if problems := wording_problems(value, _unsayable):
            raise ValueError("; ".join(problems))
        return value

    @property
    def frequencies(self) -> list[Frequency]:
        """Allowed frequencies, most preferred first."""
        return [f for f in FREQUENCY_PREFERENCE if f in self.plan.frequencies]


def _distinct(values: list[T]) -> list[T]:
    if len(set(values)) != len(values):
        raise ValueError("each may be listed once")
    return values


def _unsayable(text: str, shipped: str) -> str | None:
    """What an override's sentence may not say: any threat, or debt words its shipped
    sentence lacks."""
    return _threatens(text) or _debt_told_early(text, shipped)


def _threatens(text: str) -> str | None:
    """A threat of arrest, seizure, garnishment or legal action: the gate lets the bot's
    reviewed wording through unchecked, and a sentence sent to everyone cannot know the
    action to be lawful and intended (compliance.md A.4 item 19, 12 CFR 1006.18(c))."""
    mention = threat_mention(text)
    if mention is None:
        return None
    return (
        f"threatens action ({mention.found!r}); no sentence may threaten arrest, a "
        "lawsuit, garnishment or seizure (compliance.md A.4 item 19)"
    )


def _debt_told_early(text: str, shipped: str) -> str | None:
    """Debt words in a sentence whose shipped words carry none: such a sentence may go out
    before verification, where the gate blocks it and the debtor hears nothing
    (compliance.md A.2 item 9)."""
    if debt_mention(shipped) is not None:
        return None
    mention = debt_mention(text)
    if mention is None:
        return None
    return (
        f"tells of the debt ({mention.kind} {mention.found!r}) where the shipped sentence "
        "does not; it may be sent before the debtor is verified"
    )
