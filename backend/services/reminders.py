"""The first reminder: the best allowed channel, a portal link, and nothing about the debt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, ContactPoint, Conversation, Debtor, Message, PlannedContact
from backend.db.models.enums import AccountStatus, Direction
from backend.services.compliance.service import ComplianceGate
from backend.services.delivery import envelope
from backend.services.outbox import SqlOutbox
from backend.services.row_locks import hold_account
from backend.workflow.stops import hold_reason
from backend.workflow.strategy import Lifecycle
from bot.messages import ConversationKey, OutboundMessage, Purpose
from bot.ports import OutboxDecision

CHANNEL_PREFERENCE = ("telegram", "whatsapp", "sms")
WHATSAPP_TEMPLATE = "parley_reminder"  # a utility template (compliance.md D item 55)
# Before verification a reminder names no creditor, amount or debt (compliance.md A.2 item 9)
# and always says how to opt out (A.3 item 12).
TEMPLATES = {
    "en": ("Hello, this is the Parley assistant with a personal message for you. {action} "
           "Reply STOP to stop messages here."),
    "es": ("Hola, le escribe el asistente de Parley con un mensaje personal. {action} "
           "Responda STOP para no recibir más mensajes aquí."),
}
ACTIONS = {
    "en": ("Please open {link} or reply here to continue.", "Please reply here to continue."),
    "es": ("Abra {link} o responda aquí para continuar.", "Responda aquí para continuar."),
}
SENDER = "reminder"  # `Message.sender`; the campaign spacing (workflow/sender.py) reads it
# The first reminder goes once per account: one stored in any of these states is not repeated,
# nor is it sent after a campaign step's message (a blocked, failed or undelivered one never
# reached the debtor, so it may be tried again).
NOT_SENT = ("blocked", "failed", "undelivered")
# `--all-due` leaves alone the accounts the workflow would hold (the strategy's default pause).
REPLY_PAUSE = timedelta(hours=Lifecycle().reply_pause_hours)


@dataclass(frozen=True)
class ReminderResult:
    """What happened to one account's reminder."""

    account_id: int
    channel: str | None
    decision: OutboxDecision | None
    reason: str | None = None
    message_id: int | None = None  # the earlier reminder, when skipped as already_reminded


def reminder_text(language: str, link: str | None) -> str:
    """The reminder in the debtor's language (English when it is not translated)."""
    lang = _language(language)
    with_link, without = ACTIONS[lang]
    action = with_link.format(link=link) if link else without
    return TEMPLATES[lang].format(action=action)


async def send_reminder(
    session: AsyncSession, outbox: SqlOutbox, gate: ComplianceGate, account_id: int,
    now: datetime, adapters: Mapping[str, Any], portal_links: Any = None,
) -> ReminderResult:
    """Submit one reminder on the first channel the gate allows now, else the first it defers
    (sent at the next allowed moment), else the first one (stored blocked, with its reason).

    An account's first reminder goes once: when one is already stored (pending, deferred or
    sent), or a campaign step's message is, the account is skipped as `already_reminded`.
    """
    await hold_account(session, account_id)
    account = await session.get(Account, account_id)
    if account is None:
        return ReminderResult(account_id, None, None, "unknown_account")
    debtor = await session.get(Debtor, account.debtor_id)
    assert debtor is not None
    contacts = await _contacts(session, account)
    earlier = (await _earlier_reminder(session, account, contacts)
               or await _campaign_message(session, account))
    if earlier is not None:
        return ReminderResult(account_id, earlier.channel, None, "already_reminded", earlier.id)
    link = portal_links.url_for(account) if portal_links is not None else None
    candidates = [_outbound(account, debtor, c, link) for c in contacts if c.channel in adapters]
    if not candidates:
        return ReminderResult(account_id, None, None, "no_reachable_channel")
    allowed: OutboundMessage | None = None
    deferred: OutboundMessage | None = None
    for outbound in candidates:
        preview = await gate.preview(session, outbound, None, now)
        if preview.allowed:
            allowed = outbound
            break
        if preview.status == "deferred" and deferred is None:
            deferred = outbound  # an opted-out WhatsApp must not lose a text due at 08:00
    chosen = allowed or deferred or candidates[0]
    decision = await outbox.submit(session, chosen)
    return ReminderResult(account_id, chosen.key.channel, decision)


async def due_accounts(session: AsyncSession, now: datetime) -> list[int]:
    """Active accounts past their due date with a balance that nothing holds.

    Held as the workflow holds its due-date steps (`backend/workflow/stops.py`): stop states,
    disputes, hardship, a conversation a person owns, a debtor who wrote in the last 72 hours,
    a pending promise, an active payment plan.
    """
    rows = await session.scalars(select(Account.id).where(
        Account.status == AccountStatus.ACTIVE, Account.due_date < now.date(),
        Account.current_balance > 0, hold_reason("due_date", now, REPLY_PAUSE).is_(None),
    ).order_by(Account.id))
    return list(rows.all())


async def _earlier_reminder(session: AsyncSession, account: Account,
                            contacts: list[ContactPoint]) -> Message | None:
    """The account's first reminder if one is stored and was not blocked or failed."""
    addresses = {c.address for c in contacts}
    if not addresses:
        return None
    rows = await session.scalars(
        select(Message).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.address.in_(addresses), Message.direction == Direction.OUTBOUND,
               Message.sender == SENDER, Message.delivery_status.not_in(NOT_SENT))
        .order_by(Message.id))
    return next((m for m in rows if envelope(m).get("account_id") == account.id), None)


async def _campaign_message(session: AsyncSession, account: Account) -> Message | None:
    """A campaign step's message to the account that was not blocked or failed, if any.

    It reminded the debtor already: a second reminder would repeat it (compliance.md A.4
    item 20, repeated texts can be harassment).
    """
    found: Message | None = await session.scalar(
        select(Message).join(PlannedContact, PlannedContact.message_id == Message.id)
        .where(PlannedContact.account_id == account.id,
               Message.delivery_status.not_in(NOT_SENT))
        .order_by(Message.id).limit(1))
    return found


async def _contacts(session: AsyncSession, account: Account) -> list[ContactPoint]:
    rows = (await session.scalars(select(ContactPoint).where(
        ContactPoint.debtor_id == account.debtor_id))).all()
    usable = [c for c in rows if c.channel in CHANNEL_PREFERENCE]
    # On one channel the newest address first: a re-import's changed number is the current one.
    return sorted(usable, key=lambda c: (CHANNEL_PREFERENCE.index(c.channel), -c.id))


def _outbound(account: Account, debtor: Debtor, contact: ContactPoint,
              link: str | None) -> OutboundMessage:
    return OutboundMessage(
        key=ConversationKey(contact.channel, contact.address),
        text=reminder_text(debtor.preferred_language, link), purpose=Purpose.REMINDER,
        account_id=account.id, template=WHATSAPP_TEMPLATE,
        template_vars={"1": link or ""}, sender=SENDER,
        idempotency_key=None, language=_language(debtor.preferred_language),
    )


def _language(preferred: str) -> str:
    return preferred if preferred in TEMPLATES else "en"
