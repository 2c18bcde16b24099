"""An account's recent wrong identity answers, read from the audit log, which outlives state."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backend.db.models import AuditEvent, Conversation
from bot.engine import STATE_TTL_SECONDS

IDENTITY_FAILED = "identity.failed"
IDENTITY_VERIFIED = "identity.verified"
# As long as a dialog state remembers its own attempts, and as the portal counts them.
WINDOW = timedelta(seconds=STATE_TTL_SECONDS)


def failed_answers_count(account_id: Any, since: Any) -> Select[tuple[int]]:
    """The count of wrong identity answers on the account's conversations (any channel) since
    `since`, and of those charged to the account from a shared number, after the account's
    latest verification. `account_id` may be a value or a column (the turn's statement counts
    them for its `Account` row in the same round trip)."""
    verified, conversation = aliased(AuditEvent), aliased(Conversation)
    # Correlated to whatever supplies `account_id`, however deep the nesting.
    conversations = (
        select(cast(conversation.id, String))
        .where(conversation.account_id == account_id)
        .correlate_except(conversation)
    )
    last_verified = (
        select(func.max(verified.id))
        .where(
            verified.action == IDENTITY_VERIFIED,
            verified.subject_type == "conversation",
            verified.subject_id.in_(conversations),
        )
        .correlate_except(verified)
        .scalar_subquery()
    )
    # A wrong answer on a number the account's debtor shares with others is charged to the
    # account itself too (`identity.failed` on the account): the guesser may be after it.
    charged = str(account_id) if isinstance(account_id, int) else cast(account_id, String)
    on_account = (
        (AuditEvent.subject_type == "conversation") & AuditEvent.subject_id.in_(conversations)
    ) | ((AuditEvent.subject_type == "account") & (AuditEvent.subject_id == charged))
    return select(func.count(AuditEvent.id)).where(
        AuditEvent.action == IDENTITY_FAILED,
        on_account,
        AuditEvent.occurred_at >= since,
        AuditEvent.id > func.coalesce(last_verified, 0),
    )


async def failed_identity_answers(session: AsyncSession, account_id: int, now: datetime) -> int:
    """Wrong identity answers on the account within `WINDOW` of `now` (`failed_answers_count`):
    a restart or an expired dialog state gives no guesses back."""
    count = await session.scalar(failed_answers_count(account_id, now - WINDOW))
    return int(count or 0)
