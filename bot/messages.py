"""Parley's one internal message vocabulary: what comes in, what the bot says, what goes out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class ConversationKey:
    """Who we talk to and where: a channel and the debtor's address on it.

    Addresses are normalized: E.164 for sms/whatsapp ("+15551234567", never "whatsapp:"),
    the chat id for telegram, "account:<id>" for the web portal.
    """

    channel: str
    address: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.address}"


@dataclass(frozen=True)
class Attachment:
    """Media that came with a message (kept for agents)."""

    url: str
    content_type: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """A message from a debtor, already verified and normalized by its channel adapter."""

    key: ConversationKey
    text: str
    provider_message_id: str
    received_at: datetime
    attachments: tuple[Attachment, ...] = ()
    choice_value: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class Choice:
    """A quick-reply option; channels without buttons show it as numbered text."""

    label: str
    value: str


@dataclass(frozen=True)
class Reply:
    """What a dialog wants said: a response key with its slots, rendered per locale later."""

    key: str
    slots: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    choices: tuple[Choice, ...] = ()
    lead: str | None = None  # a sentence said first in the same message (the bot's introduction)


class Purpose(StrEnum):
    """Why a message is sent; the compliance gate treats each differently."""

    REPLY = "reply"  # the bot answering a debtor inside a conversation
    AGENT = "agent"  # a human agent's reply
    REMINDER = "reminder"  # outreach the debtor did not ask for (campaigns, reminders)
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"  # the one confirmation after STOP
    STOP_ACKNOWLEDGEMENT = "stop_acknowledgement"  # the one ack after attorney/bankruptcy/...
    PAYMENT_RECEIPT = "payment_receipt"  # confirming money received


@dataclass(frozen=True)
class OutboundMessage:
    """A rendered message to one address, before the compliance gate decides on it."""

    key: ConversationKey
    text: str
    purpose: Purpose = Purpose.REPLY
    choices: tuple[Choice, ...] = ()
    conversation_id: int | None = None
    account_id: int | None = None
    in_reply_to: int | None = None  # the inbound message row this answers, if any
    discusses_debt: bool = False  # carries debt content (balance, creditor, offers)
    recipient_verified: bool = False  # right-party verification passed in this conversation
    template: str | None = None  # provider template name (WhatsApp outside the 24h window)
    template_vars: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    sender: str = "bot"  # bot | agent:<id> | campaign:<id>
    idempotency_key: str | None = None
    language: str | None = None  # the locale the text is written in (en, es): the template's
