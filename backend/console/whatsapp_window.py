"""WhatsApp's 24-hour window in the console: when it closed, and the two ways still to answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.console.deps import handoff_service
from backend.console.replies import (
    ReplyOutcome,
    explain,
    owned_by,
    reply_language,
    same_reply,
    send_agent_reply,
)
from backend.container import Container
from backend.db.models import Account, ContactPoint, Conversation, Handoff
from backend.db.models.enums import Channel
from backend.services import audit
from backend.services.compliance.facts import ContactState, load_facts
from backend.services.compliance.service import ComplianceGate, mask
from backend.services.handoff import ACTIVE_STATUSES, AGENT
from backend.services.outbox import conversation_for
from backend.services.reminders import WHATSAPP_TEMPLATE, reminder_text
from backend.services.row_locks import hold_conversation
from bot.messages import ConversationKey, OutboundMessage, Purpose

log = logging.getLogger(__name__)
WHATSAPP, SMS = Channel.WHATSAPP.value, Channel.SMS.value
# The reason an SMS conversation opened for the agent is queued under when the WhatsApp one has
# no handoff of its own (handoff/queues.yml routes it).
SWITCH_REASON = "request_agent"
# Why a way is not offered: a notice code each (notices.py says them to the agent).
NO_WHATSAPP = "no_whatsapp_channel"
NO_TEMPLATE = "no_template_configured"
NO_SMS_CHANNEL = "no_sms_channel"
NO_SMS_NUMBER = "no_sms_number"
SMS_OPTED_OUT = "sms_opted_out"
NUMBER_OPTED_OUT = "number_opted_out"  # a WhatsApp opt-out holds the number's SMS too
SMS_NO_CONSENT = "sms_no_consent"
SMS_WRONG_PARTY = "sms_wrong_party"
WINDOW_OPEN = "window_open"
SMS_TAKEN = "sms_other_agent"


@dataclass(frozen=True)
class WindowView:
    """A WhatsApp conversation's window: when it closed (None: never opened) and what the
    agent may still send: the template, or SMS to `sms_address` (each else why not)."""

    closed: bool
    closed_at: datetime | None
    template_refusal: str | None
    sms_address: str | None
    sms_refusal: str | None

    @property
    def sms_masked(self) -> str:
        """The SMS number as the page shows it (its last four digits)."""
        return mask(self.sms_address or "")


async def window_view(session: AsyncSession, container: Container,
                      conversation: Conversation) -> WindowView | None:
    """The window of a WhatsApp conversation as the compliance gate reads it; None on another
    channel or without a gate."""
    gate = container.services.get("gate")
    if conversation.channel != WHATSAPP or not isinstance(gate, ComplianceGate):
        return None
    now = container.clock.now()
    facts = await load_facts(session, _probe(conversation, conversation.address, WHATSAPP),
                             conversation.id, now, gate.rules)
    last = facts.latest_inbound_at
    # compliance.md D item 54: free-form text only within 24h of the debtor's last message.
    closed_at = last + gate.rules.whatsapp_window if last is not None else None
    if closed_at is not None and now <= closed_at:
        return WindowView(False, closed_at, None, None, None)
    sms_address, sms_refusal = await _sms_route(session, container, gate, conversation)
    return WindowView(True, closed_at, _template_refusal(container), sms_address, sms_refusal)


def _template_refusal(container: Container) -> str | None:
    """Why the approved template cannot go (None: it can)."""
    adapter = (container.services.get("adapters") or {}).get(WHATSAPP)
    if adapter is None:
        return NO_WHATSAPP
    if getattr(adapter, "provider", None) != "twilio":
        return None  # Meta sends the template by name, in WHATSAPP_TEMPLATE_LANGUAGES
    sids = container.settings.content_sids
    named = any(name.split(".")[0] == WHATSAPP_TEMPLATE for name in sids)
    return None if named else NO_TEMPLATE


async def _sms_route(session: AsyncSession, container: Container, gate: ComplianceGate,
                     conversation: Conversation) -> tuple[str | None, str | None]:
    """The account's newest SMS number the gate would let an agent use, else why none."""
    if SMS not in (container.services.get("adapters") or {}):
        return None, NO_SMS_CHANNEL
    numbers = await _sms_numbers(session, conversation.account_id)
    refusal: str | None = NO_SMS_NUMBER
    for number in numbers:
        facts = await load_facts(session, _probe(conversation, number, SMS), None,
                                 container.clock.now(), gate.rules)
        refusal = _contact_refusal(facts.contact)
        if refusal is None:
            return number, None
    return None, refusal


async def _sms_numbers(session: AsyncSession, account_id: int | None) -> list[str]:
    """The account's debtor's SMS numbers, the newest first (a re-import's is the current)."""
    if account_id is None:
        return []
    rows = await session.scalars(
        select(ContactPoint.address).join(Account, Account.debtor_id == ContactPoint.debtor_id)
        .where(Account.id == account_id, ContactPoint.channel == SMS)
        .order_by(ContactPoint.id.desc()))
    return list(rows.all())


def _contact_refusal(contact: ContactState | None) -> str | None:
    # An agent writing first on a new channel is contact we start: it needs that channel's
    # consent (compliance.md C item 42), no opt-out (A.3 items 13-15) and the right party (A.2
    # item 9). The gate checks consent too when the number never wrote by SMS; it is read here
    # to offer the button only when it would pass.
    if contact is not None and contact.wrong_party:
        return SMS_WRONG_PARTY
    if contact is not None and contact.opted_out_at is not None:
        return SMS_OPTED_OUT
    if contact is not None and contact.same_number_opted_out_at is not None:
        return NUMBER_OPTED_OUT
    return None if contact is not None and contact.consent else SMS_NO_CONSENT


def _probe(conversation: Conversation, address: str, channel: str) -> OutboundMessage:
    """An agent's message to `address` on `channel`, to read what the gate reads for it."""
    return OutboundMessage(key=ConversationKey(channel, address), text="",
                           purpose=Purpose.AGENT, account_id=conversation.account_id)


async def send_template(container: Container, conversation_id: int, agent_id: int,
                        nonce: str) -> ReplyOutcome:
    """Send the approved re-engagement template through the outbox (the gate decides), in the
    language of the agent's replies here; audited as `agent.template_sent`."""
    outbox = container.services.get("outbox")
    if outbox is None:
        return ReplyOutcome("unavailable", explanation="No outbound channel is configured.")
    async with container.sessions.begin() as session:
        await hold_conversation(session, conversation_id)  # one form posted twice: one template
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or not owned_by(conversation, agent_id):
            return ReplyOutcome("not_owner", explanation="Claim the conversation to reply.")
        view = await window_view(session, container, conversation)
        refusal = _template_blocker(view)
        if refusal is not None:
            return ReplyOutcome(refusal)
        outbound = await _template_message(session, container, conversation, agent_id, nonce)
        earlier = await same_reply(session, outbound)
        if earlier is not None:
            return ReplyOutcome(earlier.delivery_status, earlier.error_code,
                                explain(earlier.error_code), earlier.id)
        decision = await outbox.submit(session, outbound)
        await audit.record(
            session, occurred_at=container.clock.now(), actor=f"agent:{agent_id}",
            action="agent.template_sent", subject_type="conversation", subject_id=conversation.id,
            data={"message_id": decision.message_id, "status": decision.status,
                  "reason": decision.reason, "template": WHATSAPP_TEMPLATE,
                  "language": outbound.language})
    log.info("agent %s sent the WhatsApp template in conversation %s: %s", agent_id,
             conversation_id, decision.status)
    if decision.allowed and decision.message_id is not None:
        await outbox.send([decision.message_id])
    return ReplyOutcome(decision.status, decision.reason, explain(decision.reason),
                        decision.message_id)


def _template_blocker(view: WindowView | None) -> str | None:
    if view is None:
        return NO_WHATSAPP
    if not view.closed:
        return WINDOW_OPEN
    return view.template_refusal


async def _template_message(session: AsyncSession, container: Container,
                            conversation: Conversation, agent_id: int,
                            nonce: str) -> OutboundMessage:
    """The reminder template (`parley_reminder`, the portal link its one variable) and its text
    as the transcript keeps it; nothing about the debt (compliance.md A.2 item 9)."""
    language = await reply_language(session, container, conversation)
    links = container.services.get("portal_links")
    account = (await session.get(Account, conversation.account_id)
               if conversation.account_id is not None else None)
    link = links.url_for(account) if links is not None and account is not None else None
    return OutboundMessage(
        key=ConversationKey(conversation.channel, conversation.address),
        text=reminder_text(language, link), purpose=Purpose.AGENT,
        conversation_id=conversation.id, account_id=conversation.account_id,
        template=WHATSAPP_TEMPLATE, template_vars={"1": link or ""},
        sender=f"agent:{agent_id}", idempotency_key=f"console-{conversation.id}-{nonce}"[:64],
        language=language,
    )


@dataclass(frozen=True)
class SmsSwitch:
    """The SMS conversation the agent's text went to (None when refused) and its outcome."""

    conversation_id: int | None
    outcome: ReplyOutcome


async def reply_by_sms(
    container: Container, conversation_id: int, agent_id: int, text: str, *,
    discusses_debt: bool, recipient_verified: bool, nonce: str,
) -> SmsSwitch:
    """Send the agent's text to the debtor's SMS number instead: the account's SMS
    conversation, now the agent's, takes it through the same reply path and gate."""
    if not text.strip():
        return SmsSwitch(None, ReplyOutcome("empty", explanation="Write a message first."))
    async with container.sessions.begin() as session:
        await hold_conversation(session, conversation_id)
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or not owned_by(conversation, agent_id):
            return SmsSwitch(None, ReplyOutcome("not_owner"))
        view = await window_view(session, container, conversation)
        refusal = _sms_blocker(view)
        if refusal is not None or view is None or view.sms_address is None:
            return SmsSwitch(None, ReplyOutcome(refusal or NO_SMS_NUMBER))
        sms = await conversation_for(session, ConversationKey(SMS, view.sms_address),
                                     conversation.account_id, container.clock.now(),
                                     language=conversation.language)
        if sms.ownership == AGENT and sms.agent_id != agent_id:
            return SmsSwitch(None, ReplyOutcome(SMS_TAKEN))
        await _take(session, container, conversation, sms, agent_id)
        await audit.record(
            session, occurred_at=container.clock.now(), actor=f"agent:{agent_id}",
            action="agent.switched_to_sms", subject_type="conversation",
            subject_id=conversation.id,
            data={"sms_conversation_id": sms.id, "address": view.sms_masked,
                  "reason": "whatsapp_window_closed"})
        sms_id = sms.id
    outcome = await send_agent_reply(container, sms_id, agent_id, text,
                                     discusses_debt=discusses_debt,
                                     recipient_verified=recipient_verified, nonce=nonce)
    return SmsSwitch(sms_id, outcome)


def _sms_blocker(view: WindowView | None) -> str | None:
    if view is None:
        return NO_WHATSAPP
    if not view.closed:
        return WINDOW_OPEN
    return view.sms_refusal


async def _take(session: AsyncSession, container: Container, whatsapp: Conversation,
                sms: Conversation, agent_id: int) -> None:
    """Make the SMS conversation the agent's, so the bot stays silent when the debtor answers
    there: queued under the WhatsApp handoff's reason and queue, then claimed."""
    if sms.ownership == AGENT:
        return
    handoffs, now = handoff_service(container), container.clock.now()
    if sms.ownership not in ACTIVE_STATUSES:
        handoff = await session.scalar(
            select(Handoff).where(Handoff.conversation_id == whatsapp.id)
            .order_by(Handoff.id.desc()).limit(1))
        await handoffs.open_handoff(
            session, sms.id, handoff.reason if handoff else SWITCH_REASON, now=now,
            queue=handoff.queue if handoff else None, note="WhatsApp window closed: the agent "
            "answers by SMS.")
    await handoffs.claim(session, sms.id, agent_id=agent_id, now=now)
