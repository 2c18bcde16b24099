"""The gate as a service: read the facts, decide, and write the decision to the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend.services import audit
from backend.services.compliance.facts import load_facts
from backend.services.compliance.gate import GateDecision, decide
from backend.services.compliance.rules import ComplianceRules
from bot.messages import OutboundMessage


class ComplianceGate:
    """Every outbound message (bot, agent, campaign) passes here before it is stored to send."""

    def __init__(self, rules: ComplianceRules) -> None:
        self.rules = rules

    async def preview(
        self, session: AsyncSession, outbound: OutboundMessage, conversation_id: int | None,
        now: datetime,
    ) -> GateDecision:
        """The decision without recording it (to choose a channel, never to send)."""
        facts = await load_facts(session, outbound, conversation_id, now, self.rules)
        return decide(outbound, facts, self.rules, now)

    async def evaluate(
        self, session: AsyncSession, outbound: OutboundMessage, *, conversation_id: int | None,
        message_id: int, now: datetime,
    ) -> GateDecision:
        """Decide for the stored message `message_id` and record why (compliance.md G item 77)."""
        facts = await load_facts(session, outbound, conversation_id, now, self.rules,
                                 exclude_id=message_id)
        decision = decide(outbound, facts, self.rules, now)
        await self.record(session, outbound, decision, message_id=message_id, now=now)
        return decision

    async def record(
        self, session: AsyncSession, outbound: OutboundMessage, decision: GateDecision, *,
        message_id: int, now: datetime,
    ) -> None:
        """Write a decision taken by `preview` for the message since stored as `message_id`."""
        await audit.record(
            session, occurred_at=now, actor=outbound.sender, action=f"compliance.{decision.status}",
            subject_type="message", subject_id=message_id,
            data={
                "reason": decision.reason, "rule": decision.rule, "purpose": outbound.purpose.value,
                "channel": outbound.key.channel, "address": mask(outbound.key.address),
                "account_id": outbound.account_id, "not_before": decision.not_before,
                "use_template": decision.use_template, **decision.details,
            },
        )


def mask(address: str) -> str:
    """An address safe for logs and audit data: only the last four characters."""
    return "…" + address[-4:] if len(address) > 4 else "…"
