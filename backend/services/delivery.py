"""Outbound delivery state: ranks that never move backwards, and what a provider error implies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy import update as update_rows
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Conversation, Message, MessagePart, PlannedContact
from backend.db.models.enums import Direction
from backend.services.compliance.consent import record_opt_out
from bot.channels.base import StatusUpdate
from bot.channels.errors import RecipientOptedOut, ReEngagementRequired
from bot.messages import ConversationKey

# Callbacks arrive out of order: a late "sent" must never overwrite "delivered" or "read".
RANK = {
    "pending": 0, "deferred": 0, "blocked": 0, "queued": 1, "sent": 2,
    "delivered": 3, "undelivered": 3, "failed": 3, "read": 4,
}


# The codes adapters give `OutcomeUnknown` (a send whose answer was lost): a message deferred
# with one of them may be adopted by a status that echoes its idempotency key.
UNKNOWN_OUTCOME_CODES = ("timeout", "transport", "lookup")
FAILURES = frozenset({"failed", "undelivered"})


def advances(current: str, new: str) -> bool:
    """True when `new` is further along than `current`."""
    return RANK.get(new, 0) > RANK.get(current, 0)


def _moves(message: Message, status: str) -> bool:
    """True when `status` takes the message further; a split one that failed stays failed.

    Its parts report one by one: one failed part (a refused last part) means the debtor did
    not get the whole message, whatever the others report, before or after.
    """
    if not envelope(message).get("part_ids"):
        return advances(message.delivery_status, status)
    if message.delivery_status in FAILURES:
        return False
    return status in FAILURES or advances(message.delivery_status, status)


def envelope(message: Message) -> dict[str, Any]:
    """The outbound details stored with a message (see backend.services.outbox)."""
    return envelope_in(message.entities)


def envelope_in(entities: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The outbound details in a message's stored `entities` column."""
    for item in entities or []:
        if "outbound" in item:
            return dict(item["outbound"])
    return {}


def set_envelope(message: Message, data: dict[str, Any]) -> None:
    """Replace the stored outbound details (a new list, so the JSON change is flushed)."""
    message.entities = [{"outbound": data}]


async def apply_statuses(
    session: AsyncSession, updates: Sequence[StatusUpdate], now: datetime
) -> list[int]:
    """Apply provider status reports; returns message ids to gate again and re-send."""
    resend: list[int] = []
    for update in updates:
        message = await session.scalar(select(Message).where(
            Message.provider_message_id == update.provider_message_id,
            Message.direction == Direction.OUTBOUND))
        if message is None:
            message = await _split_message_of(session, update.provider_message_id)
        if message is None and update.idempotency_key:
            message = await _adopt(session, update)
        if message is None:
            continue
        if await _apply(session, message, update, now):
            resend.append(message.id)
    return resend


async def _split_message_of(session: AsyncSession, part_id: str) -> Message | None:
    """The split message one of whose earlier parts is `part_id`, if any.

    Its statuses count like the last part's: a part that failed or was never read is the
    message's. One primary-key lookup (`message_part`, written by the outbox with the
    envelope's `part_ids`): every part's callbacks, and those of ids Parley never sent, come
    through here.
    """
    return await session.scalar(select(Message).join(
        MessagePart, MessagePart.message_id == Message.id).where(
        MessagePart.provider_message_id == part_id).limit(1))


async def _adopt(session: AsyncSession, update: StatusUpdate) -> Message | None:
    """The deferred message whose lost send this status reports: it takes the provider's id.

    A send that timed out (`OutcomeUnknown`) waits for its next round with no provider id; a
    provider that echoes our idempotency key (WhatsApp Cloud's `biz_opaque_callback_data`)
    tells us it was taken after all, so that round never sends it twice.
    """
    waiting = await session.scalars(select(Message).where(
        Message.direction == Direction.OUTBOUND, Message.delivery_status == "deferred",
        Message.provider_message_id.is_(None), Message.error_code.in_(UNKNOWN_OUTCOME_CODES))
        .order_by(Message.id))
    for message in waiting:
        data = envelope(message)
        key = data.get("idempotency_key") or f"parley-msg-{message.id}"
        if data.get("unknown_since") and key == update.idempotency_key:
            message.provider_message_id = update.provider_message_id
            return message
    return None


async def mirror_to_contact(session: AsyncSession, message: Message) -> None:
    """The workflow send of `message`, if any, keeps its state (the strategy page reads it)."""
    await session.execute(
        update_rows(PlannedContact).where(PlannedContact.message_id == message.id)
        .values(delivery_status=message.delivery_status)
        .execution_options(synchronize_session=False))


async def _apply(session: AsyncSession, message: Message, update: StatusUpdate,
                 now: datetime) -> bool:
    data = envelope(message)
    if isinstance(update.error, ReEngagementRequired) and data.get("template") and not data.get(
        "use_template"
    ):
        # Meta may accept free text and fail it later with 131047: re-send as the template,
        # but only once the gate allows it again (an opt-out or the night may have come since).
        set_envelope(message, {**data, "use_template": True, "template_required": True,
                               "not_before": now.isoformat()})
        message.delivery_status, message.error_code = "deferred", update.error_code
        await mirror_to_contact(session, message)
        return True
    if _of_replaced_text(message, data, update):
        await _heed_opt_out(session, message, update, now)
        return False
    if not _moves(message, update.status):
        return False
    message.delivery_status, message.error_code = update.status, update.error_code
    await mirror_to_contact(session, message)
    await _heed_opt_out(session, message, update, now)
    return False


def _of_replaced_text(message: Message, data: dict[str, Any], update: StatusUpdate) -> bool:
    """True for a status of a text part the message's template re-send replaced.

    A template goes as one message under the message's own provider id; the text's parts
    report late (Meta fails each with 131047 in its own time), and a failure of a text the
    debtor was never meant to get must not fail the template they did get.
    """
    return bool(data.get("use_template")) and (
        update.provider_message_id != message.provider_message_id)


async def _heed_opt_out(session: AsyncSession, message: Message, update: StatusUpdate,
                        now: datetime) -> None:
    """A provider saying the recipient opted out is recorded, whichever attempt it reports."""
    if not isinstance(update.error, RecipientOptedOut):
        return
    conversation = await session.get(Conversation, message.conversation_id)
    if conversation is not None:
        key = ConversationKey(conversation.channel, conversation.address)
        await record_opt_out(session, key, f"provider:{update.error_code}", now)
