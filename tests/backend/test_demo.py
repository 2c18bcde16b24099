"""The demo portfolio: every debtor has a phone of their own, and seeding twice changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from backend.container import Container
from backend.db.models import Account, ContactPoint, Payment, Promise
from backend.services.demo import DEMO_MAX_ACCOUNTS, demo_rows, seed_demo
from backend.services.geo import normalize_phone

TODAY = date(2026, 11, 25)


def test_no_two_demo_debtors_share_a_phone() -> None:
    rows = demo_rows(300, TODAY)
    phones = [row.phone for row in rows]
    assert len(set(phones)) == len(phones)
    # docs/CHANNELS.md texts from the first demo debtor's phone.
    assert rows[0].phone == "+13055550164"


def test_every_fictional_number_is_valid_and_handed_out_once() -> None:
    rows = demo_rows(DEMO_MAX_ACCOUNTS, TODAY)
    phones = [row.phone or "" for row in rows]
    assert len(set(phones)) == DEMO_MAX_ACCOUNTS
    assert all(normalize_phone(p) == p and p[5:9] == "5550" for p in phones)
    assert demo_rows(300, TODAY) == rows[:300]  # deterministic, whatever the count
    with pytest.raises(ValueError, match="at most"):
        demo_rows(DEMO_MAX_ACCOUNTS + 1, TODAY)


async def _state(container: Container) -> tuple[object, ...]:
    async with container.sessions() as session:
        balances = (await session.execute(select(
            Account.id, Account.current_balance, Account.status).order_by(Account.id))).all()
        return (
            [tuple(row) for row in balances],
            await session.scalar(select(func.count(Payment.id))),
            await session.scalar(select(func.count(Promise.id))),
            await session.scalar(select(func.count(ContactPoint.id))),
        )


async def test_seeding_the_demo_twice_changes_nothing(container: Container) -> None:
    now = datetime(2026, 11, 25, 15, tzinfo=UTC)
    async with container.sessions.begin() as session:
        first = await seed_demo(session, now, 40)
    before = await _state(container)
    async with container.sessions.begin() as session:
        second = await seed_demo(session, now, 40)
    assert second == first and first.payments > 0 and first.promises > 0
    assert await _state(container) == before
