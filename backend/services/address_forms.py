"""How a provider names an address (WhatsApp's Mexican "521"), kept for every process."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, cast, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from backend.db.models import AuditEvent, Conversation
from backend.services import audit
from backend.services.compliance.service import mask
from bot.messages import ConversationKey

# Kept as audit events on the address's conversation: no column holds it without a migration
# (a `conversation.address_form` would), and the event names the adapter's mark, never the
# number. Only a change is recorded, so an address adds an event once, not per message.
FORM_ACTION = "channel.address_form"


def _latest() -> Any:
    """The newest form event of any conversation sharing the channel and address of
    `:conversation_id` (a shared phone has several: whichever heard the form)."""
    own, same = aliased(Conversation), aliased(Conversation)
    return (
        select(AuditEvent.data)
        .join(same, AuditEvent.subject_id == cast(same.id, String))
        .join(own, (own.channel == same.channel) & (own.address == same.address))
        .where(
            own.id == bindparam("conversation_id"),
            AuditEvent.action == FORM_ACTION,
            AuditEvent.subject_type == "conversation",
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )


_LATEST = _latest()


def _form_in(data: dict[str, Any] | None) -> str | None:
    return str(data["form"]) if data and data.get("form") is not None else None


async def latest_form(conn: AsyncConnection | AsyncSession, conversation_id: int) -> str | None:
    """The form last given for the conversation's address (None when never given)."""
    return _form_in(await conn.scalar(_LATEST, {"conversation_id": conversation_id}))


async def remember_form(
    session: AsyncSession, conversation_id: int, key: ConversationKey, form: str, now: datetime
) -> None:
    """Record `form` for the conversation's address when it differs from the latest one."""
    latest = await latest_form(session, conversation_id)
    if (latest or "") == form:
        return  # "" (as stored) needs no record where none was ever kept
    await audit.record(
        session,
        occurred_at=now,
        actor="channel",
        action=FORM_ACTION,
        subject_type="conversation",
        subject_id=conversation_id,
        data={"channel": key.channel, "address": mask(key.address), "form": form},
    )
