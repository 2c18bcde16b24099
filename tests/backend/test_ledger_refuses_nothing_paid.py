"""The ledger never records a payment of zero or less, whichever path brings it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backend.container import Container
from backend.db.models import Payment
from backend.services import ledger
from bot.clock import SettableClock
from tests.workflow import seed


@pytest.mark.parametrize("amount", ["0.00", "0.004", "-5.00"])
async def test_a_payment_of_nothing_is_never_posted(
    container: Container, clock: SettableClock, amount: str,
) -> None:
    now = clock.now()
    with pytest.raises(ValueError, match="not a positive amount"):
        async with container.sessions.begin() as session:
            folio = await seed.portfolio(session, now)
            account = await seed.account(session, folio, now, now.date())
            await ledger.post_payment(session, account, Decimal(amount), "cs_zero",
                                      ledger.Origin(now), source="stripe")
    async with container.sessions() as session:
        assert await session.scalar(select(func.count(Payment.id))) == 0
