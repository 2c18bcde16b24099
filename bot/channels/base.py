"""The ChannelAdapter protocol and the provider-neutral values adapters exchange with Parley."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.channels.errors import ChannelError, MalformedPayload
from bot.messages import EMPTY, Choice, ConversationKey, InboundMessage


@dataclass(frozen=True)
class RawRequest:
    """A webhook request exactly as received: verified before anything parses it."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # lower-cased names
    body: bytes

    def header(self, name: str) -> str:
        """A header value ("" when absent)."""
        return self.headers.get(name.lower(), "")


def json_body(body: bytes) -> Any:
    """A webhook's JSON body; `MalformedPayload` (field `body`) when it is not JSON."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        where = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise MalformedPayload("body", f"not valid JSON ({where})") from None
    except (ValueError, RecursionError):  # not UTF-8/16/32, or nested beyond the parser
        raise MalformedPayload("body", "not valid JSON") from None


# The inbound metadata key naming how the provider named the sender when that may differ
# from the stored address (a mark its adapter reads back, "" for "as stored"). Parley keeps
# the latest per address and hands it back as `Delivery.address_form`: replies must go to
# the form the provider accepts, in whichever process sends them, after any restart.
ADDRESS_FORM = "address_form"


@dataclass(frozen=True)
class StatusUpdate:
    """A provider's report on an outbound message we sent."""

    provider_message_id: str
    status: str  # a DeliveryStatus value
    error_code: str | None = None
    error: ChannelError | None = None  # the provider's code, typed by the adapter's mapping
    # Our `Delivery.idempotency_key`, when the provider echoes it: it names a message whose
    # send lost its answer (so Parley never learnt the provider's id).
    idempotency_key: str | None = None


@dataclass(frozen=True)
class LinkRequest:
    """A chat asking to be linked to an account (Telegram `/start <token>`)."""

    key: ConversationKey
    token: str


@dataclass(frozen=True)
class WebhookBatch:
    """Everything one verified webhook delivery carried."""

    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    opt_outs: tuple[ConversationKey, ...] = ()
    links: tuple[LinkRequest, ...] = ()
    # Best-effort provider calls (Telegram's answerCallbackQuery) that can fail or block: run
    # only after the delivery is stored and acknowledged, never before.
    after_ack: tuple[Callable[[], Awaitable[None]], ...] = ()


@dataclass(frozen=True)
class ChannelLimits:
    """What a channel can carry in one message."""

    max_chars: int
    max_parts: int = 1
    max_buttons: int = 0  # 0: choices become numbered text
    button_label_chars: int = 0
    # The longest text the message carrying the buttons may have, when shorter than
    # `max_chars` (0: `max_chars`): a longer last part is split once more, the buttons on its
    # tail, so such a message may take `max_parts` + 1 sends.
    button_text_chars: int = 0


@dataclass(frozen=True)
class Delivery:
    """One stored outbound message, ready for a provider."""

    key: ConversationKey
    text: str
    idempotency_key: str
    choices: tuple[Choice, ...] = ()
    template: str | None = None
    template_vars: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    use_template: bool = False
    language: str | None = None  # the text's locale, for the template's language
    # Set after an attempt whose outcome was lost: the provider may hold the message already,
    # so an adapter that can look it up does so before sending again.
    unknown_since: datetime | None = None
    sent_ids: frozenset[str] = frozenset()  # provider ids Parley holds already: never adopted
    address_form: str | None = None  # the latest ADDRESS_FORM of the address, if one was given
    parts_sent: int = 0  # parts of the split text an earlier attempt got taken: not sent again
    part_ids: tuple[str, ...] = ()  # the provider ids of those parts, as far as Parley knows

    def first_unsent(self, parts: int) -> int:
        """Index of the first of `parts` to send: after those already taken, at most the last."""
        return max(0, min(self.parts_sent, parts - 1))


@dataclass(frozen=True)
class SendResult:
    """What the provider said when it accepted a message."""

    provider_message_id: str
    status: str  # a DeliveryStatus value
    # The text as the recipient got it, when the channel changed it (choices numbered into
    # it, shortened, split): what Parley stores as sent. None: the stored text went as is.
    text: str | None = None
    # The earlier parts' ids of a split message, earlier attempts' included (`Delivery.part_ids`):
    # their statuses find the message, and a lookup after a lost reply never adopts one for
    # another message.
    part_ids: tuple[str, ...] = ()


def parts_taken(error: ChannelError, index: int, ids: Sequence[str]) -> ChannelError:
    """`error`, marked with the parts a split send got taken before it: how many, and their ids
    (every earlier attempt's too), so a retry resumes after them and their statuses still
    find the message."""
    error.parts_sent, error.part_ids = index, tuple(ids)
    return error


class ChannelAdapter(Protocol):
    """Turns one provider's webhooks into Parley values and Parley deliveries into API calls."""

    channel: str
    provider: str
    limits: ChannelLimits

    def verify(self, request: RawRequest) -> bool:
        """True when the request provably comes from the provider (constant-time check)."""
        ...

    async def parse(self, request: RawRequest) -> WebhookBatch:
        """The messages, statuses and consent events of a verified request.

        Reads the whole delivery before returning and raises
        `bot.channels.errors.MalformedPayload` when any part of it is structurally broken, so
        nothing of a broken delivery is stored. Kinds of event Parley does not use are skipped.
        """
        ...

    async def send(self, delivery: Delivery) -> SendResult:
        """Send one message; raises a `bot.channels.errors.ChannelError` on failure."""
        ...

    async def close(self) -> None:
        """Release the SDK client's connections."""
        ...
