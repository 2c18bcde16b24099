"""Typed channel errors: each provider maps its own failures onto these in one function."""

from __future__ import annotations

from datetime import datetime


class ChannelError(Exception):
    """A provider refused or failed a send; `code` is the provider's own error code."""

    # How many parts of a split message the provider took before this error: a retry
    # starts after them, so the debtor never gets the first part twice.
    parts_sent: int = 0
    # Their provider ids (every earlier attempt's too): their statuses must find the message.
    part_ids: tuple[str, ...] = ()

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientChannelError(ChannelError):
    """Worth retrying with backoff (rate limits, provider 5xx, refused connections)."""

    def __init__(self, message: str, code: str | None = None, retry_after: float | None = None):
        super().__init__(message, code)
        self.retry_after = retry_after


class OutcomeUnknown(TransientChannelError):
    """The request may have reached the provider (a timeout, a connection lost mid-request).

    Sending again could double the message: look it up first (`Delivery.unknown_since`).
    `since` is when the ambiguous attempt started, filled in by the sender.
    """

    since: datetime | None = None


class RecipientOptedOut(ChannelError):
    """The recipient unsubscribed or blocked us on this channel: record an opt-out, never retry."""


class ReEngagementRequired(ChannelError):
    """Free-form text outside the WhatsApp 24-hour window: only a template may go."""


class PermanentChannelError(ChannelError):
    """Will fail again the same way: record it, do not retry."""


class MalformedPayload(ValueError):
    """A verified webhook whose body is structurally broken; the webhook answers 400.

    `field` is where (`entry[0].changes[0].value.messages[1].timestamp`, `MessageSid`,
    `message.chat`, or `body` for the whole body) and `reason` is why (`required`,
    `not an integer`). Neither ever quotes a value from the payload: both go to the logs and
    back to the provider, and values are message bodies and phone numbers.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
