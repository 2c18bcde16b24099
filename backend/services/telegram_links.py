"""Telegram deep links: signed, expiring, single-use `/start` tokens linking a chat to a debtor."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, AuditEvent, ContactPoint, Conversation, Message
from backend.db.models.enums import Ownership
from backend.services import audit
from backend.services.compliance.consent import record_opt_in
from backend.services.handoff import SYSTEM_ACTOR, HandoffService
from backend.services.inbox import StoredInbound
from backend.services.queues import load_queues
from bot.channels.telegram import START_BARE, START_COMMAND, START_LINK
from bot.dialogs.base import Said
from bot.messages import ConversationKey, InboundMessage, OutboundMessage, Purpose, Reply
from bot.ports import Outbox
from bot.responses import RenderContext, Renderer

TOKEN_RE = re.compile(r"^[0-9a-f]+-[0-9a-f]+-[0-9a-f]{8}-[0-9a-f]{24}$")
DEFAULT_TTL = timedelta(days=14)
LINKED_ACTION = "telegram.linked"
REFUSED_ACTION = "telegram.link_refused"
OTHER_DEBTOR = "linked_to_other_debtor"
# What a `/start` did; the Telegram adapter marks the command in the inbound's metadata.
# ALREADY: the chat's own debtor's link, used before (by this chat, most likely) - nothing new.
LINKED, ALREADY, REFUSED, INVALID = "linked", "already_linked", "refused", "invalid"
START_KEYWORD = "/start"  # the opt-in's keyword in the audit trail
# The channel's own answer to each outcome; a refused link goes to a person, unanswered.
RESUMED_REPLY = "telegram.resumed"
START_REPLIES = {LINKED: "telegram.linked", ALREADY: "telegram.already_linked",
                 INVALID: "telegram.link_invalid", START_BARE: "telegram.start"}
GREETINGS = frozenset({START_REPLIES[LINKED], START_REPLIES[ALREADY]})
# While a person has the conversation the bot stays quiet, so its greeting (which invites the
# debtor to begin the identity check with the bot) becomes a pointer to the team.
TEAM_REPLY, RESUMED_TEAM_REPLY = "telegram.team", "telegram.resumed_team"
PERSON_OWNED = frozenset({Ownership.QUEUED, Ownership.AGENT})


@dataclass(frozen=True)
class StartAnswer:
    """A `/start` the channel answered itself (the engine never reads it): the reply to send."""

    reply_id: int | None


def make_token(secret: str, account_id: int, now: datetime, ttl: timedelta = DEFAULT_TTL) -> str:
    """An opaque token (<= 64 chars of [0-9a-f-]) naming nothing a forwarded link could leak."""
    expires = int((now + ttl).timestamp())
    head = f"{account_id:x}-{expires:x}-{secrets.token_hex(4)}"
    return f"{head}-{_sign(secret, head)}"


def read_token(secret: str, token: str, now: datetime) -> int | None:
    """The account id of a valid, unexpired token (None when forged, malformed or expired)."""
    # compliance.md E item 64: validate the payload shape before anything else.
    if len(token) > 64 or not TOKEN_RE.match(token):
        return None
    head, signature = token.rsplit("-", 1)
    if not hmac.compare_digest(signature, _sign(secret, head)):
        return None
    account_hex, expires_hex, _ = head.split("-")
    if int(expires_hex, 16) < now.timestamp():
        return None
    return int(account_hex, 16)


async def link_chat(
    session: AsyncSession, key: ConversationKey, token: str, secret: str, now: datetime,
    handoffs: HandoffService | None = None,
) -> int | None:
    """Link the chat to the token's debtor once; returns the account id, or None if refused."""
    _, account_id = await link_outcome(session, key, token, secret, now, handoffs)
    return account_id


async def link_outcome(
    session: AsyncSession, key: ConversationKey, token: str, secret: str, now: datetime,
    handoffs: HandoffService | None = None,
) -> tuple[str, int | None]:
    """Link the chat to the token's debtor once: (LINKED, account id), REFUSED or INVALID.

    A chat already linked to another debtor is never re-linked: its verified identity is that
    debtor's, and a forwarded link must not open someone else's account to it.
    """
    account_id = read_token(secret, token, now)
    account = await session.get(Account, account_id) if account_id is not None else None
    if account is None:
        return INVALID, None
    if await _used(session, token):
        # Reopening the link in the chat it connected (its bot's "Start" again) is no misuse.
        mine = await _linked_to(session, key, account.debtor_id)
        return (ALREADY, account.id) if mine else (INVALID, None)
    other = await _other_debtor(session, key, account.debtor_id)
    if other is not None:
        await _refuse(session, key, token, account, other, now, handoffs)
        return REFUSED, None
    existing = await session.scalar(select(ContactPoint).where(
        ContactPoint.debtor_id == account.debtor_id, ContactPoint.channel == key.channel,
        ContactPoint.address == key.address))
    if existing is None:
        session.add(ContactPoint(debtor_id=account.debtor_id, channel=key.channel,
                                 address=key.address, consent=True, created_at=now))
    await session.execute(
        update(Conversation).where(Conversation.channel == key.channel,
                                   Conversation.address == key.address)
        .values(debtor_id=account.debtor_id, account_id=account.id))
    await audit.record(session, occurred_at=now, actor="telegram", action=LINKED_ACTION,
                       subject_type="link_token", subject_id=_token_id(token),
                       data={"account_id": account.id})
    return LINKED, account.id


async def answer_start(
    session: AsyncSession, inbound: InboundMessage, stored: StoredInbound,
    outcome: str | None, *, outbox: Outbox, renderer: Renderer, now: datetime,
) -> StartAnswer | None:
    """The channel's own answer to a `/start`; None when the engine is to read the message.

    `/start` is no SMS START: a linked chat is greeted towards verification, a link that no
    longer works says so, a bare `/start` says how to link. While a person has the
    conversation (queued or owned) the greeting says the team will reply instead: the bot
    would not answer. An opted-out chat's `/start`
    is also its opt-in (`_resubscribe`); one linked to no account goes to the engine, whose
    START answer (the opt-in's confirmation) is then all it is told.
    The message is marked processed, so no turn answers it as well.
    """
    kind = inbound.metadata.get(START_COMMAND)
    if kind not in (START_LINK, START_BARE) or stored.duplicate:
        return None
    resumed = await _opted_out(session, inbound.key)
    if resumed:
        if stored.account_id is None:
            return None
        await _resubscribe(session, inbound.key, now)
    await session.execute(update(Message).where(Message.id == stored.message_id)
                          .values(processed_at=now))
    reply = START_REPLIES.get(outcome or INVALID) if kind == START_LINK else _bare_reply(stored)
    if reply in GREETINGS and await _person_owned(session, stored.conversation_id):
        reply = RESUMED_TEAM_REPLY if resumed else TEAM_REPLY
    elif resumed and reply in GREETINGS:
        reply = RESUMED_REPLY  # the greeting that also says messages come again, and how to stop
    if reply is None:
        return StartAnswer(None)
    locale = "es" if str(inbound.metadata.get("language") or "").startswith("es") else "en"
    rendered = renderer.render(Said(Reply(reply)), RenderContext(locale=locale,
                                                                 channel=inbound.key.channel))
    decision = await outbox.submit(session, OutboundMessage(
        key=inbound.key, text=rendered.text, purpose=Purpose.REPLY,
        conversation_id=stored.conversation_id, account_id=stored.account_id,
        in_reply_to=stored.message_id, idempotency_key=f"telegram-start:{stored.message_id}",
        language=locale))
    return StartAnswer(decision.message_id if decision.allowed else None)


def _bare_reply(stored: StoredInbound) -> str:
    # A linked chat is greeted as a fresh link is; another is told how to link.
    return START_REPLIES[LINKED] if stored.account_id is not None else START_REPLIES[START_BARE]


async def _resubscribe(session: AsyncSession, key: ConversationKey, now: datetime) -> None:
    """Lift the chat's opt-out: its `/start` asks for messages again, then it is greeted.

    `/start` is the chat holder's own act (Telegram sends it when they press Start, or
    Restart after unblocking the bot): the clear request to resume that compliance.md C item
    50 (d) asks for, like START on SMS, and the new consumer message item 63 wants before an
    unblocked chat hears from us again. It is recorded as new consent (`contact.opted_in`);
    stop-states (cease, dispute, attorney …) stay (G item 75), and the gate still applies.
    """
    await record_opt_in(session, key, START_KEYWORD, now)


async def _person_owned(session: AsyncSession, conversation_id: int) -> bool:
    ownership = await session.scalar(select(Conversation.ownership)
                                     .where(Conversation.id == conversation_id))
    return ownership in PERSON_OWNED


async def _linked_to(session: AsyncSession, key: ConversationKey, debtor_id: int) -> bool:
    """The chat already belongs to `debtor_id` (its contact point or its conversation)."""
    by_contact = select(ContactPoint.id).where(
        ContactPoint.channel == key.channel, ContactPoint.address == key.address,
        ContactPoint.debtor_id == debtor_id)
    by_conversation = select(Conversation.id).where(
        Conversation.channel == key.channel, Conversation.address == key.address,
        Conversation.debtor_id == debtor_id)
    found = await session.scalar(by_contact.union_all(by_conversation).limit(1))
    return found is not None


async def _opted_out(session: AsyncSession, key: ConversationKey) -> bool:
    found = await session.scalar(select(ContactPoint.id).where(
        ContactPoint.channel == key.channel, ContactPoint.address == key.address,
        ContactPoint.opted_out_at.is_not(None)).limit(1))
    return found is not None


async def _other_debtor(session: AsyncSession, key: ConversationKey, debtor_id: int
                        ) -> int | None:
    """A debtor other than `debtor_id` the chat already belongs to, if any."""
    by_contact = select(ContactPoint.debtor_id).where(
        ContactPoint.channel == key.channel, ContactPoint.address == key.address,
        ContactPoint.debtor_id != debtor_id)
    by_conversation = select(Conversation.debtor_id).where(
        Conversation.channel == key.channel, Conversation.address == key.address,
        Conversation.debtor_id != debtor_id)
    found: int | None = await session.scalar(by_contact.union_all(by_conversation).limit(1))
    return found


async def _refuse(
    session: AsyncSession, key: ConversationKey, token: str, account: Account, other: int,
    now: datetime, handoffs: HandoffService | None,
) -> None:
    """Audit the refusal (the token stays unused) and let a person read the chat."""
    await audit.record(session, occurred_at=now, actor="telegram", action=REFUSED_ACTION,
                       subject_type="link_token", subject_id=_token_id(token),
                       data={"account_id": account.id, "reason": OTHER_DEBTOR,
                             "linked_debtor_id": other})
    conversation_id = await session.scalar(
        select(Conversation.id).where(Conversation.channel == key.channel,
                                      Conversation.address == key.address)
        .order_by(Conversation.id.desc()).limit(1))
    if conversation_id is None:
        return
    service = handoffs or HandoffService(load_queues())
    await service.open_handoff(
        session, conversation_id, "telegram_link_refused", now=now, actor=SYSTEM_ACTOR,
        note=f"a /start link for account {account.id}, another debtor's; not linked")


async def _used(session: AsyncSession, token: str) -> bool:
    found = await session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == LINKED_ACTION, AuditEvent.subject_id == _token_id(token)).limit(1))
    return found is not None


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def _sign(secret: str, head: str) -> str:
    return hmac.new(secret.encode(), f"telegram-start|{head}".encode(), hashlib.sha256
                    ).hexdigest()[:24]
