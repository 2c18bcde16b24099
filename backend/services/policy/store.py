"""Per-portfolio policies in the database: versioned, validated, falling back to the default."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Portfolio
from backend.services import audit
from backend.services.policy.loader import parse_policy, parse_whole_policy
from backend.services.policy.model import Policy


class PolicyStore:
    """Reads a portfolio's policy (cached by version) and saves new versions."""

    def __init__(self, default: Policy) -> None:
        self.default = default
        self._cache: dict[tuple[int, int], Policy] = {}

    def for_portfolio(self, portfolio: Portfolio) -> Policy:
        """The portfolio's own policy, or the default when it has none."""
        if not portfolio.policy:
            return self.default
        key = (portfolio.id, portfolio.policy_version)
        if key not in self._cache:
            self._cache[key] = parse_policy(portfolio.policy, f"portfolio {portfolio.id}")
        return self._cache[key]

    async def replace(
        self, session: AsyncSession, portfolio: Portfolio, data: Any, *, actor: str,
        now: datetime,
    ) -> Policy:
        """Validate `data` and store it as the portfolio's next version (audited)."""
        policy = parse_whole_policy(data, f"portfolio {portfolio.id}")
        portfolio.policy = policy.model_dump(mode="json")
        portfolio.policy_version = (portfolio.policy_version or 0) + 1
        await audit.record(
            session, occurred_at=now, actor=actor, action="policy.updated",
            subject_type="portfolio", subject_id=portfolio.id,
            data={"version": portfolio.policy_version, "name": policy.name},
        )
        return policy
