"""What Twilio SMS and Twilio WhatsApp share: the REST client, signatures, forms, error codes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import RawRequest, SendResult, StatusUpdate
from bot.channels.errors import (
    ChannelError,
    MalformedPayload,
    PermanentChannelError,
    RecipientOptedOut,
    ReEngagementRequired,
    TransientChannelError,
)
from bot.messages import Attachment, ConversationKey, InboundMessage

# The SDK logs whole responses (bodies, phone numbers) at INFO; keep them out of the logs.
_sdk_log = logging.getLogger("parley.twilio.sdk")
_sdk_log.setLevel(logging.WARNING)

OPT_OUT_CODES = frozenset({"21610", "63014"})  # unsubscribed recipient; WhatsApp user blocked
REENGAGE_CODES = frozenset({"63016"})  # free-form WhatsApp outside the 24h window
MAX_MEDIA = 10  # an inbound MMS or WhatsApp message carries at most 10 media
STATUS_MAP = {
    "accepted": "queued", "scheduled": "queued", "queued": "queued", "sending": "queued",
    "sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed",
    "undelivered": "undelivered", "canceled": "failed", "partially_delivered": "delivered",
}


class RedirectingHttpClient(AsyncHttpClient):
    """Sends every Twilio API call to `base_url` (a local fake, a proxy) instead of twilio.com."""

    def __init__(self, base_url: str | None, timeout: float = 10.0) -> None:
        super().__init__(_sdk_log, True, timeout)
        self._inner = AsyncTwilioHttpClient(timeout=timeout, logger=_sdk_log)
        self._base = urlsplit(base_url) if base_url else None

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self._base is not None:
            parts = urlsplit(url)
            url = urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, ""))
        return await self._inner.request(method, url, *args, **kwargs)

    async def close(self) -> None:
        await self._inner.close()


def build_client(account_sid: str, auth_token: str, api_url: str | None) -> Client:
    """An async-capable Twilio client; `api_url` replaces https://api.twilio.com when set."""
    http = RedirectingHttpClient(api_url)
    return Client(account_sid, auth_token, http_client=http)


class TwilioSignature:
    """Checks X-Twilio-Signature against the public URL Twilio was given, not the proxied one."""

    def __init__(self, auth_token: str, public_base_url: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._base = public_base_url.rstrip("/")

    def verify(self, request: RawRequest) -> bool:
        """Constant-time check over every posted field, blank ones included."""
        signature = request.header("x-twilio-signature")
        if not signature:
            return False
        url = self._base + request.path + (f"?{request.query}" if request.query else "")
        try:
            form = parse_form(request.body)
        except MalformedPayload:
            return False  # a body Twilio never sends (not UTF-8) cannot carry its signature
        return bool(self._validator.validate(url, form, signature))


def parse_form(body: bytes) -> dict[str, str]:
    """The form fields; Twilio signs empty ones (FromCity=) too, so they are kept."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("body", "not UTF-8 form data") from None
    return dict(parse_qsl(text, keep_blank_values=True))


def inbound_from_form(form: Mapping[str, str], channel: str, now: datetime) -> InboundMessage:
    """An inbound SMS/WhatsApp message; MMS media are kept as attachments for agents.

    Raises `MalformedPayload` naming the field when the message id or sender is missing (an
    empty id would make every later message a "duplicate" of it) or a media field is broken.
    """
    sid = _message_sid(form)
    sender = strip_prefix(form.get("From", ""))
    if not sender:
        raise MalformedPayload("From", "required")
    count = _count(form, "NumMedia")
    media = tuple(
        Attachment(_required(form, f"MediaUrl{i}"), form.get(f"MediaContentType{i}") or None)
        for i in range(count)
    )
    metadata = {"opt_out_type": form["OptOutType"]} if form.get("OptOutType") else {}
    return InboundMessage(
        key=ConversationKey(channel, sender),
        text=form.get("Body", ""),
        provider_message_id=sid,
        received_at=now,
        attachments=media,
        choice_value=form.get("ButtonPayload") or None,
        metadata=metadata,
    )


def _message_sid(form: Mapping[str, str]) -> str:
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid")
    if not sid:
        raise MalformedPayload("MessageSid", "required")
    return sid


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise MalformedPayload(name, "required")
    return value


def _count(form: Mapping[str, str], name: str) -> int:
    value = form.get(name) or "0"
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_MEDIA:
        raise MalformedPayload(name, f"not a non-negative integer up to {MAX_MEDIA}")
    return int(value)


def is_status_callback(form: Mapping[str, str]) -> bool:
    """Status callbacks carry MessageStatus; inbound messages only SmsStatus=received."""
    return form.get("MessageStatus", "received") != "received"


def status_from_form(form: Mapping[str, str]) -> StatusUpdate | None:
    """A status callback as a StatusUpdate (None for statuses Parley does not track).

    Raises `MalformedPayload` when the callback names no message.
    """
    sid = _message_sid(form)
    status = STATUS_MAP.get(form.get("MessageStatus", ""))
    if status is None:
        return None
    code = form.get("ErrorCode") or None
    error = classify_code(400, code) if code else None
    return StatusUpdate(sid, status, code, error)


def strip_prefix(address: str) -> str:
    """`whatsapp:+1555...` -> `+1555...`."""
    return address.split(":", 1)[1] if address.startswith("whatsapp:") else address


async def create_message(client: Client, **fields: Any) -> SendResult:
    """POST /Messages.json; any failure comes back as a typed ChannelError."""
    try:
        message = await client.messages.create_async(**fields)
    except (TimeoutError, TwilioRestException, aiohttp.ClientError) as exc:
        raise map_twilio_error(exc) from exc
    return SendResult(str(message.sid), STATUS_MAP.get(str(message.status), "queued"))


def map_twilio_error(exc: Exception) -> ChannelError:
    """The one place Twilio failures become typed errors."""
    if isinstance(exc, asyncio.TimeoutError):
        # The request may have reached Twilio: retrying blind could double the message.
        return PermanentChannelError("twilio timeout, outcome unknown", "timeout")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return TransientChannelError("twilio unreachable", "connect")
    if not isinstance(exc, TwilioRestException):
        return TransientChannelError(f"twilio transport error {type(exc).__name__}", "transport")
    return classify_code(exc.status, str(exc.code) if exc.code is not None else None)


def classify_code(status: int, code: str | None) -> ChannelError:
    """A Twilio HTTP status and error code (from a REST reply or a status callback), typed."""
    if status == 429 or status >= 500:
        return TransientChannelError(f"twilio {status}", code or str(status))
    if code in OPT_OUT_CODES:
        return RecipientOptedOut("recipient opted out", code)
    if code in REENGAGE_CODES:
        return ReEngagementRequired("outside the WhatsApp window", code)
    return PermanentChannelError(f"twilio {status}", code or str(status))


# Twilio sends a text/plain reply back to the sender as a message; empty TwiML sends nothing.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
