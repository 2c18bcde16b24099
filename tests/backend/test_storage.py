"""Storage contract on SQLite and PostgreSQL: exact money, aware times, schema matches models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.container import Container
from backend.db.models import Base, Payment
from backend.services.demo import demo_rows
from backend.services.imports.writer import upsert_accounts

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


async def test_money_sums_are_exact_to_the_cent(container: Container) -> None:
    async with container.sessions.begin() as session:
        await upsert_accounts(session, demo_rows(1, date(2026, 11, 25)), NOW)
        for index in range(10):
            session.add(Payment(account_id=1, amount=Decimal("0.10"), currency="USD",
                                paid_at=NOW, reference=f"r{index}", created_at=NOW))
    async with container.sessions() as session:
        total = await session.scalar(select(func.sum(Payment.amount)))
        big = await session.scalar(select(Payment.amount).where(Payment.amount > Decimal("0.09")))
    assert total == Decimal("1.00")
    assert big == Decimal("0.10")


async def test_times_come_back_timezone_aware(container: Container) -> None:
    async with container.sessions.begin() as session:
        await upsert_accounts(session, demo_rows(1, date(2026, 11, 25)), NOW)
        session.add(Payment(account_id=1, amount=Decimal("1"), currency="USD", paid_at=NOW,
                            reference="t", created_at=NOW))
    async with container.sessions() as session:
        paid_at = await session.scalar(select(Payment.paid_at))
    assert paid_at == NOW and paid_at.tzinfo is not None


async def test_naive_datetimes_are_refused(container: Container) -> None:
    with pytest.raises(Exception, match="naive"):
        async with container.sessions.begin() as session:
            await upsert_accounts(session, demo_rows(1, date(2026, 11, 25)), NOW)
            session.add(Payment(account_id=1, amount=Decimal("1"), currency="USD",
                                paid_at=datetime(2026, 1, 1), reference="n", created_at=NOW))


async def test_a_failing_statement_never_shows_its_values(container: Container) -> None:
    with pytest.raises(IntegrityError) as failed:
        async with container.sessions.begin() as session:
            session.add(Payment(account_id=999, amount=Decimal("1234.56"), currency="USD",
                                paid_at=NOW, reference="secret-ref", created_at=NOW))
    assert "secret-ref" not in str(failed.value) and "1234.56" not in str(failed.value)


async def test_migrations_match_the_models(container: Container) -> None:
    async with container.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    assert diff == []
