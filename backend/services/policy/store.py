"""Per-portfolio policies in the database: versioned, validated, falling back to the default."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Portfolio
from backend.services import audit
from backend.services.policy.loader import PolicyError, parse_policy, parse_whole_policy
from backend.services.policy.model import Policy

log = logging.getLogger(__name__)


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

    def for_turn(self, portfolio: Portfolio) -> tuple[Policy, bool]:
        """The policy a conversation turn reads, and whether it had to be the default.

        A stored policy that no longer validates (saved before a rule tightened, or naming a
        wording file broken since) must not fail the turn, and the recovery with it: the
        debtor would hear nothing. The error is logged by portfolio and field, never a value,
        and the shipped default is returned for the safe path only: True tells the caller
        that a person must take over, not the bot negotiate on terms the creditor never set.
        A failure is not cached: the next turn reads the policy (or its wording) again.
        """
        try:
            return self.for_portfolio(portfolio), False
        except PolicyError as exc:
            log.error("portfolio %s: its stored policy (version %s) is invalid at %s; turns "
                      "use the default policy and hand off to a person until it is replaced",
                      portfolio.id, portfolio.policy_version, ", ".join(exc.fields))
        except Exception as exc:  # whatever else reading it raised: the same safe path
            log.error("portfolio %s: its stored policy (version %s) cannot be read (%s); turns "
                      "use the default policy and hand off to a person until it is fixed",
                      portfolio.id, portfolio.policy_version, type(exc).__name__)
        return self.default, True

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
