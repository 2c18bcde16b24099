"""An agent's reply: through the outbox (so the compliance gate decides), on the same channel."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.container import Container
from backend.db.models import Account, Conversation, Creditor, Debtor, Message, Portfolio
from backend.db.models.enums import DeliveryStatus, Direction
from backend.services import audit
from backend.services.compliance.debt_mentions import debt_mention
from backend.services.delivery import envelope, envelope_in
from backend.services.handoff import AGENT
from backend.services.row_locks import hold_conversation
from bot.dialogs.base import DialogState
from bot.engine import state_key
from bot.messages import ConversationKey, OutboundMessage, Purpose
from bot.ports import OutboxDecision
from bot.responses import LOCALES, RenderContext, Renderer

log = logging.getLogger(__name__)
# A reply on a channel with no adapter here may take what an SMS does (Twilio's 1,600), the
# least any channel carries.
MAX_REPLY_LENGTH = 1600
TOO_LONG = "too_long"
# Outbound rows that never reached the debtor (and so disclosed nothing).
NOT_SENT = (DeliveryStatus.BLOCKED, DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED)

# What the console tells an agent for each gate reason (compliance.md has the sources).
REFUSALS = {
    "dispute_pause": "The debt is disputed: nothing about the debt may be sent until the "
                     "verification is sent.",
    "threat_of_action": "The reply threatens legal or physical action (a lawsuit, "
                        "garnishment, arrest, police, seizure…); that may not be sent.",
    "wrong_party": "This address reached the wrong person; it is never messaged again.",
    "opted_out": "The debtor opted out on this address.",
    "telegram_not_started": "The debtor has not started the Telegram bot.",
    "no_consent": "There is no consent to contact this address.",
    "identity_unverified": "The debtor's identity is not verified in this conversation; "
                           "remove debt details or confirm the right party first.",
    "no_location_signal": "The debtor's local time is unknown, and they have not written "
                          "recently.",
    "no_allowed_hours": "No hour is allowed in every time zone the debtor may be in.",
    "quiet_hours": "It is outside 08:00-21:00 for the debtor; the message waits until then.",
    "frequency_cap": "The contact limit for this account and channel is reached; the message "
                     "waits.",
    "whatsapp_window_closed": "WhatsApp's 24-hour window is closed; only an approved template "
                              "can be sent. Use \"Send the approved template\" or \"Reply by "
                              "SMS instead\" on this page.",
}


@dataclass(frozen=True)
class ReplyOutcome:
    """What happened to a reply: sent, deferred (with when), blocked (with why), or refused."""

    status: str  # pending | deferred | blocked | not_owner | unavailable | empty
    reason: str | None = None
    explanation: str | None = None
    message_id: int | None = None


def explain(reason: str | None) -> str | None:
    """The agent-facing sentence for a gate reason (stop-states named by their flag)."""
    if reason is None:
        return None
    if reason.startswith("stop_state:"):
        state = reason.split(":", 1)[1]
        return f"Collection is stopped on this account ({state}); nothing may be sent."
    if reason.startswith(f"{TOO_LONG}:"):
        return _too_long(reason)
    return REFUSALS.get(reason, f"Refused by the compliance gate ({reason}).")


async def send_agent_reply(
    container: Container, conversation_id: int, agent_id: int, text: str, *,
    discusses_debt: bool, recipient_verified: bool, nonce: str,
) -> ReplyOutcome:
    """Gate and store the reply in one transaction, then send it once that committed."""
    text = text.strip()
    if not text:
        return ReplyOutcome("empty", explanation="Write a message first.")
    outbox = container.services.get("outbox")
    if outbox is None:
        return ReplyOutcome("unavailable", explanation="No outbound channel is configured.")
    async with container.sessions.begin() as session:
        await hold_conversation(session, conversation_id)  # one form posted twice: one reply
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or not owned_by(conversation, agent_id):
            return ReplyOutcome("not_owner", explanation="Claim the conversation to reply.")
        # compliance.md A.2 item 9, A.4 item 17: the words decide, not the box the agent
        # ticked; a text about the debt carries the mini-Miranda and needs a verified person.
        discusses_debt = discusses_debt or await _mentions_debt(session, conversation, text)
        framing = await _framing(session, container, conversation, text, discusses_debt)
        room = reply_room(container, conversation.channel)
        if len(framing.text) > room:  # the adapter would cut it, the opt-out line first
            reason = f"{TOO_LONG}:{len(framing.text)}:{room}"
            return ReplyOutcome("blocked", reason, explain(reason))
        outbound = _outbound(conversation, agent_id, framing.text, discusses_debt,
                             recipient_verified or framing.verified, nonce, framing.locale)
        earlier = await same_reply(session, outbound)
        if earlier is not None:
            return ReplyOutcome(earlier.delivery_status, earlier.error_code,
                                explain(earlier.error_code), earlier.id)
        decision: OutboxDecision = await outbox.submit(session, outbound)
        await _audit(session, container, conversation, agent_id, decision, recipient_verified,
                     outbound.text)
    if decision.allowed and decision.message_id is not None:
        await outbox.send([decision.message_id])
    return ReplyOutcome(decision.status, decision.reason, explain(decision.reason),
                        decision.message_id)


def reply_room(container: Container, channel: str) -> int:
    """How many characters a reply, framed, may take on `channel`: what its adapter sends
    whole (every part it may split into), else MAX_REPLY_LENGTH."""
    adapter = (container.services.get("adapters") or {}).get(channel)
    if adapter is None:
        return MAX_REPLY_LENGTH
    return int(adapter.limits.max_chars * adapter.limits.max_parts)


def _too_long(reason: str) -> str:
    """The sentence for `too_long:<framed length>:<limit>`."""
    length, _, room = reason.removeprefix(f"{TOO_LONG}:").partition(":")
    if not (length.isdecimal() and room.isdecimal()):
        return "The reply is too long for this channel."
    over = int(length) - int(room)
    return (f"The reply is too long for this channel: with the disclosure and opt-out line it "
            f"is {int(length):,} characters, the limit is {int(room):,}; remove {over:,} "
            f"character{'' if over == 1 else 's'}.")


async def same_reply(session: AsyncSession, outbound: OutboundMessage) -> Message | None:
    """The reply this form already sent (its nonce is the idempotency key), if any."""
    recent = await session.scalars(
        select(Message).where(Message.conversation_id == outbound.conversation_id,
                              Message.direction == Direction.OUTBOUND,
                              Message.sender == outbound.sender)
        .order_by(Message.id.desc()).limit(20))
    return next((m for m in recent
                 if envelope(m).get("idempotency_key") == outbound.idempotency_key), None)


async def _mentions_debt(session: AsyncSession, conversation: Conversation, text: str) -> bool:
    """Whether the agent's text names an amount, a debt word, the creditor or the account."""
    terms: tuple[str | None, ...] = ()
    if conversation.account_id is not None:
        row = (await session.execute(
            select(Creditor.name, Account.external_ref)
            .join(Account, Account.creditor_id == Creditor.id)
            .where(Account.id == conversation.account_id))).first()
        terms = tuple(row) if row is not None else ()
    return debt_mention(text, terms) is not None


def owned_by(conversation: Conversation, agent_id: int) -> bool:
    """Whether `agent_id` holds the conversation (only its owner may write in it)."""
    return conversation.ownership == AGENT and conversation.agent_id == agent_id


def _outbound(
    conversation: Conversation, agent_id: int, text: str, discusses_debt: bool,
    recipient_verified: bool, nonce: str, locale: str,
) -> OutboundMessage:
    return OutboundMessage(
        key=ConversationKey(conversation.channel, conversation.address), text=text,
        purpose=Purpose.AGENT, conversation_id=conversation.id,
        account_id=conversation.account_id, discusses_debt=discusses_debt,
        recipient_verified=recipient_verified, sender=f"agent:{agent_id}",
        idempotency_key=f"console-{conversation.id}-{nonce}"[:64], language=locale,
    )


@dataclass(frozen=True)
class Framing:
    """The agent's text as it goes out, whether the bot verified the person, and the locale."""

    text: str
    verified: bool
    locale: str


async def _framing(
    session: AsyncSession, container: Container, conversation: Conversation, text: str,
    discusses_debt: bool,
) -> Framing:
    """Frame the text as a bot reply would be: the debt collector's disclosure (the full one
    if nothing before in this conversation carried it) and the channel's opt-out line."""
    state = await _bot_state(container, conversation.id)
    locale = _language(conversation, state, await _preferred(session, conversation))
    verified = state.is_verified(container.clock.now())
    renderer: Renderer | None = container.services.get("renderer")
    if renderer is None:
        return Framing(text, verified, locale)
    disclosure = None
    if discusses_debt:
        told = (locale in state.disclosed_in
                or await _disclosed_before(session, conversation.id, locale))
        disclosure = "short" if told else "full"
    ctx = RenderContext(locale=locale, channel=conversation.channel,
                        wording=await _wording(session, container, conversation),
                        disclosure=disclosure)
    return Framing(renderer.framed(text, Purpose.AGENT, ctx), verified, locale)


async def reply_language(session: AsyncSession, container: Container,
                         conversation: Conversation) -> str:
    """The one language of everything an agent sends here — notice, text, link sentence, STOP
    line — and of the canned replies offered: the language the debtor's messages last clearly
    showed, else the bot's, else the debtor's preferred one."""
    state = await _bot_state(container, conversation.id)
    return _language(conversation, state, await _preferred(session, conversation))


def _language(conversation: Conversation, state: DialogState, preferred: str | None) -> str:
    # The turn store records the debtor's language on every message read, also while a person
    # owns the conversation, when the bot's state is not updated: it is the fresher of the two.
    for language in (conversation.language, state.language, preferred):
        if language in LOCALES:
            return language
    return "en"


async def _bot_state(container: Container, conversation_id: int) -> DialogState:
    states = container.services.get("state_store")
    stored = await states.get(state_key(conversation_id)) if states is not None else None
    return DialogState.from_dict(stored)


async def _preferred(session: AsyncSession, conversation: Conversation) -> str | None:
    """The preferred language of the conversation's debtor (else its account's debtor)."""
    if conversation.debtor_id is not None:
        return await session.scalar(select(Debtor.preferred_language)
                                    .where(Debtor.id == conversation.debtor_id))
    if conversation.account_id is None:
        return None
    return await session.scalar(select(Debtor.preferred_language)
                                .join(Account, Account.debtor_id == Debtor.id)
                                .where(Account.id == conversation.account_id))


async def _disclosed_before(session: AsyncSession, conversation_id: int, locale: str) -> bool:
    """Whether an earlier message that went out here in `locale` discussed the debt (so it
    carried the mini-Miranda in that language: one in another language does not count)."""
    rows = await session.execute(
        select(Message.entities).where(
            Message.conversation_id == conversation_id, Message.direction == Direction.OUTBOUND,
            Message.delivery_status.not_in(NOT_SENT)))
    return any(_discussed_debt_in(envelope_in(entities), locale) for (entities,) in rows)


def _discussed_debt_in(sent: dict[str, object], locale: str) -> bool:
    """An outbound envelope about the debt written in `locale` (one without a language
    counts for none: the full disclosure once more is the safe side)."""
    return bool(sent.get("discusses_debt")) and sent.get("language") == locale


async def _wording(session: AsyncSession, container: Container,
                   conversation: Conversation) -> str | None:
    if conversation.portfolio_id is None:
        return None
    return portfolio_wording(container, await session.get(Portfolio, conversation.portfolio_id))


def portfolio_wording(container: Container, portfolio: Portfolio | None) -> str | None:
    """The portfolio's own wording of the bot's sentences (its mini-Miranda), as its policy
    names it, when the policies are installed."""
    policies = container.services.get("policies")
    if policies is None or portfolio is None:
        return None
    # A stored policy that no longer validates is logged and read as the default's wording.
    wording: str | None = policies.for_turn(portfolio)[0].wording
    return wording


async def _audit(
    session: AsyncSession, container: Container, conversation: Conversation, agent_id: int,
    decision: OutboxDecision, recipient_verified: bool, text: str,
) -> None:
    # The digest of the text as stored (framed): `audit verify --messages` checks the row.
    await audit.record(
        session, occurred_at=container.clock.now(), actor=f"agent:{agent_id}",
        action="agent.replied", subject_type="conversation", subject_id=conversation.id,
        data={"message_id": decision.message_id, "status": decision.status,
              "reason": decision.reason, "recipient_verified_by_agent": recipient_verified,
              "text_sha256": audit.text_digest(text)},
    )
    log.info("agent %s replied in conversation %s: %s", agent_id, conversation.id,
             decision.status)
