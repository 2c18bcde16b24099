"""The first reminder: the best allowed channel, a portal link, and nothing about the debt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, ContactPoint, Debtor
from backend.db.models.enums import AccountStatus
from backend.services.compliance.service import ComplianceGate
from backend.services.outbox import SqlOutbox
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


@dataclass(frozen=True)
class ReminderResult:
    """What happened to one account's reminder."""

    account_id: int
    channel: str | None
    decision: OutboxDecision | None
    reason: str | None = None


def reminder_text(language: str, link: str | None) -> str:
    """The reminder in the debtor's language (English when it is not translated)."""
    lang = language if language in TEMPLATES else "en"
    with_link, without = ACTIONS[lang]
    action = with_link.format(link=link) if link else without
    return TEMPLATES[lang].format(action=action)


async def send_reminder(
    session: AsyncSession, outbox: SqlOutbox, gate: ComplianceGate, account_id: int,
    now: datetime, adapters: Mapping[str, Any], portal_links: Any = None,
) -> ReminderResult:
    """Submit one reminder on the first channel the gate allows now (else the first one)."""
    account = await session.get(Account, account_id)
    if account is None:
        return ReminderResult(account_id, None, None, "unknown_account")
    debtor = await session.get(Debtor, account.debtor_id)
    assert debtor is not None
    link = portal_links.url_for(account) if portal_links is not None else None
    candidates = [_outbound(account, debtor, c, link) for c in await _contacts(session, account)
                  if c.channel in adapters]
    if not candidates:
        return ReminderResult(account_id, None, None, "no_reachable_channel")
    chosen = candidates[0]
    for outbound in candidates:
        if (await gate.preview(session, outbound, None, now)).allowed:
            chosen = outbound
            break
    decision = await outbox.submit(session, chosen)
    return ReminderResult(account_id, chosen.key.channel, decision)


async def due_accounts(session: AsyncSession, today: Any) -> list[int]:
    """Active accounts past their due date with a balance."""
    rows = await session.scalars(select(Account.id).where(
        Account.status == AccountStatus.ACTIVE, Account.due_date < today,
        Account.current_balance > 0).order_by(Account.id))
    return list(rows.all())


async def _contacts(session: AsyncSession, account: Account) -> list[ContactPoint]:
    rows = (await session.scalars(select(ContactPoint).where(
        ContactPoint.debtor_id == account.debtor_id))).all()
    usable = [c for c in rows if c.channel in CHANNEL_PREFERENCE]
    return sorted(usable, key=lambda c: (CHANNEL_PREFERENCE.index(c.channel), c.id))


def _outbound(account: Account, debtor: Debtor, contact: ContactPoint,
              link: str | None) -> OutboundMessage:
    return OutboundMessage(
        key=ConversationKey(contact.channel, contact.address),
        text=reminder_text(debtor.preferred_language, link), purpose=Purpose.REMINDER,
        account_id=account.id, template=WHATSAPP_TEMPLATE,
        template_vars={"1": link or ""}, sender="reminder",
        idempotency_key=None,
    )
