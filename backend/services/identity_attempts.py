"""An account's recent wrong identity answers, read from the audit log, which outlives state."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import AuditEvent, Conversation
from bot.engine import STATE_TTL_SECONDS

IDENTITY_FAILED = "identity.failed"
IDENTITY_VERIFIED = "identity.verified"
# As long as a dialog state remembers its own attempts, and as the portal counts them.
WINDOW = timedelta(seconds=STATE_TTL_SECONDS)


async def failed_identity_answers(session: AsyncSession, account_id: int, now: datetime) -> int:
    """Wrong identity answers on the account's conversations (any channel) within `WINDOW`
    of `now`, and those charged to the account from a shared number, after the account's
    latest verification: a restart or an expired dialog state gives no guesses back. One
    statement, over the audit log's action and subject indexes."""
    conversations = select(cast(Conversation.id, String)).where(
        Conversation.account_id == account_id
    )
    last_verified = (
        select(func.max(AuditEvent.id))
        .where(
            AuditEvent.action == IDENTITY_VERIFIED,
            AuditEvent.subject_type == "conversation",
            AuditEvent.subject_id.in_(conversations),
        )
        .correlate(None)
        .scalar_subquery()
    )
    # A wrong answer on a number the account's debtor shares with others is charged to the
    # account itself too (`identity.failed` on the account): the guesser may be after it.
    on_account = (
        (AuditEvent.subject_type == "conversation") & AuditEvent.subject_id.in_(conversations)
    ) | ((AuditEvent.subject_type == "account") & (AuditEvent.subject_id == str(account_id)))
    count = await session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == IDENTITY_FAILED,
            on_account,
            AuditEvent.occurred_at >= now - WINDOW,
            AuditEvent.id > func.coalesce(last_verified, 0),
        )
    )
    return int(count or 0)
