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
        # Casefolded name -> id, loaded once: SQLite's lower() folds ASCII only, so matching
        # in Python is what agrees with the in-file duplicate check on every database.
        self.creditors: dict[str, int] | None = None
        # Creditors this import created: nobody else can see them yet, so they have no
        # accounts but the ones this import writes.
        self.created: set[int] = set()
        self.portfolios: dict[tuple[int, str], int] = {}
        # (casefolded creditor, portfolio) -> (creditor id, portfolio id).
        self.by_names: dict[tuple[str, str], tuple[int, int]] = {}

    async def creditor(self, name: str) -> int:
        """The id of the creditor named `name` in any case, creating the creditor when new."""
        if self.creditors is None:
            self.creditors = await self._creditors()
        key = name.casefold()
        if key not in self.creditors:
            row = Creditor(name=name, created_at=self.now)
            self.session.add(row)
            await self.session.flush()
            self.created.add(row.id)
            self.creditors[key] = row.id
        return self.creditors[key]

    async def _creditors(self) -> dict[str, int]:
        result = await self.session.execute(
            select(Creditor.id, Creditor.name).order_by(Creditor.id.desc())
        )
        # Newest first, so names that already differ only by case resolve to the oldest.
        return {name.casefold(): creditor_id for creditor_id, name in result}

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
        for row in rows:
            names = (row.creditor.casefold(), row.portfolio)
            if names not in by_names:
                creditor_id = await self.creditor(row.creditor)
                by_names[names] = (creditor_id, await self.portfolio(creditor_id, row.portfolio))
        keyed = []
        for row in rows:
            creditor_id, portfolio_id = by_names[(row.creditor.casefold(), row.portfolio)]
            keyed.append(((creditor_id, row.external_ref, portfolio_id), row))
        return keyed
