"""Creditor and portfolio ids by name for an import, created on first use."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Creditor, Portfolio
from backend.services.imports.records import Keyed
from backend.services.imports.rows import AccountRow


class PortfolioIds:
    """Creditor and portfolio ids by name, looked up or created once per import."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session, self.now = session, now
        self.creditors: dict[str, int] = {}
        # Creditors this import created: nobody else can see them yet, so they have no
        # accounts but the ones this import writes.
        self.created: set[int] = set()
        self.portfolios: dict[tuple[int, str], int] = {}
        self.by_names: dict[tuple[str, str], tuple[int, int]] = {}

    async def creditor(self, name: str) -> int:
        """The creditor's id, creating the creditor when new."""
        if name not in self.creditors:
            row = await self.session.scalar(select(Creditor).where(Creditor.name == name))
            if row is None:
                row = Creditor(name=name, created_at=self.now)
                self.session.add(row)
                await self.session.flush()
                self.created.add(row.id)
            self.creditors[name] = row.id
        return self.creditors[name]

    async def portfolio(self, creditor_id: int, name: str) -> int:
        """The portfolio's id within the creditor, creating it when new."""
        key = (creditor_id, name)
        if key not in self.portfolios:
            row = await self.session.scalar(
                select(Portfolio).where(
                    Portfolio.creditor_id == creditor_id, Portfolio.name == name
                )
            )
            if row is None:
                row = Portfolio(creditor_id=creditor_id, name=name, policy={}, created_at=self.now)
                self.session.add(row)
                await self.session.flush()
            self.portfolios[key] = row.id
        return self.portfolios[key]

    async def keys(self, rows: Sequence[AccountRow]) -> list[Keyed]:
        """Each row with its (creditor id, external_ref, portfolio id), names resolved once."""
        by_names = self.by_names
        for names in dict.fromkeys((r.creditor, r.portfolio) for r in rows):
            if names in by_names:
                continue
            creditor_id = await self.creditor(names[0])
            by_names[names] = (creditor_id, await self.portfolio(creditor_id, names[1]))
        keyed = []
        for row in rows:
            creditor_id, portfolio_id = by_names[(row.creditor, row.portfolio)]
            keyed.append(((creditor_id, row.external_ref, portfolio_id), row))
        return keyed
