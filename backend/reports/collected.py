"""What a payment collected: its amount less what the provider has given back of it."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import type_coerce
from sqlalchemy.sql.elements import ColumnElement

from backend.db.models import Payment
from backend.db.types import Money


def kept() -> ColumnElement[Decimal]:
    """The money a payment row still brings in (`amount` − `refunded_amount`), as Money so
    sums read back in the currency's units on SQLite (cents) and PostgreSQL alike."""
    return type_coerce(Payment.amount - Payment.refunded_amount, Money)
