"""Typed channel errors: each provider maps its own failures onto these in one function."""

from __future__ import annotations


class ChannelError(Exception):
    """A provider refused or failed a send; `code` is the provider's own error code."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientChannelError(ChannelError):
    """Worth retrying with backoff (rate limits, provider 5xx, refused connections)."""

    def __init__(self, message: str, code: str | None = None, retry_after: float | None = None):
        super().__init__(message, code)
        self.retry_after = retry_after


class RecipientOptedOut(ChannelError):
    """The recipient unsubscribed or blocked us on this channel: record an opt-out, never retry."""


class ReEngagementRequired(ChannelError):
    """Free-form text outside the WhatsApp 24-hour window: only a template may go."""


class PermanentChannelError(ChannelError):
    """Will fail again the same way: record it, do not retry."""
