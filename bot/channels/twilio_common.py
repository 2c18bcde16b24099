"""What Twilio SMS and Twilio WhatsApp share: the REST client, signatures, forms, error codes."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import RawRequest, SendResult, StatusUpdate
from bot.channels.errors import (
    ChannelError,
    MalformedPayload,
    OutcomeUnknown,
    PermanentChannelError,
    RecipientOptedOut,
    ReEngagementRequired,
    TransientChannelError,
)
from bot.messages import Attachment, ConversationKey, InboundMessage

# The SDK logs whole responses (bodies, phone numbers) at INFO; keep them out of the logs.
_sdk_log = logging.getLogger("parley.twilio.sdk")
_sdk_log.setLevel(logging.WARNING)
log = logging.getLogger(__name__)

OPT_OUT_CODES = frozenset({"21610", "63014"})  # unsubscribed recipient; WhatsApp user blocked
REENGAGE_CODES = frozenset({"63016"})  # free-form WhatsApp outside the 24h window
MAX_MEDIA = 10  # an inbound MMS or WhatsApp message carries at most 10 media
STATUS_MAP = {
    "accepted": "queued", "scheduled": "queued", "queued": "queued", "sending": "queued",
    "sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed",
    "undelivered": "undelivered", "canceled": "failed", "partially_delivered": "delivered",
}
# Looking up a message whose create lost its reply: Twilio's clock against ours, and how many
# of the newest messages to the address are read (one page).
CLOCK_SKEW = timedelta(seconds=30)
LOOKUP_LIMIT = 50


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
        # The SDK passes timeout=None, which aiohttp reads as "wait forever".
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
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


def for_account(request: RawRequest, account_sid: str) -> bool:
    """The delivery names our AccountSid (checked after the signature; a missing one is not).

    A signed request for another account is not ours to answer: refused like a forgery.
    """
    try:
        given = parse_form(request.body).get("AccountSid", "")
    except MalformedPayload:
        return False
    if account_sid and hmac.compare_digest(given.encode(), account_sid.encode()):
        return True
    log.warning("rejected twilio webhook: AccountSid is not this account's")
    return False


def addressed_to(form: Mapping[str, str], channel: str, numbers: Iterable[str | None],
                 service: str | None = None) -> bool:
    """An inbound message written to one of our senders: a number, or our Messaging Service.

    Anything else (another number of the account pointed at this webhook) would be answered
    from a number the debtor never wrote to, so it is acknowledged and dropped, with a
    warning naming only the last digits written to.
    """
    to = strip_prefix(form.get("To", ""))
    ours = {strip_prefix(number) for number in numbers if number}
    if to in ours or (service and form.get("MessagingServiceSid") == service):
        return True
    log.warning("ignored twilio %s message to …%s: not a configured sender", channel, to[-4:])
    return False


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


async def create_message(client: Client, *, unknown_since: datetime | None = None,
                         sent_ids: frozenset[str] = frozenset(), **fields: Any) -> SendResult:
    """POST /Messages.json; any failure comes back as a typed ChannelError.

    Twilio has no idempotency key for creates: after an attempt whose outcome was lost
    (`unknown_since`), the message Twilio already holds is adopted instead of sent again.
    """
    if unknown_since is not None:
        found = await find_message(client, unknown_since, sent_ids, fields)
        if found is not None:
            return found
    try:
        message = await client.messages.create_async(**fields)
    except (TimeoutError, TwilioRestException, aiohttp.ClientError) as exc:
        raise map_twilio_error(exc) from exc
    return _result(message)


async def find_message(client: Client, since: datetime, sent_ids: frozenset[str],
                       fields: Mapping[str, Any]) -> SendResult | None:
    """The message a create left on Twilio since `since`, if any; OutcomeUnknown if unsure.

    Filtered by To (and From) only: a message Twilio accepted but has not sent yet has no
    DateSent, so a DateSent filter would hide exactly the one looked for.
    """
    filters = {"to": fields["to"], **({"from_": fields["from_"]} if fields.get("from_") else {})}
    try:
        listed = await client.messages.list_async(limit=LOOKUP_LIMIT, **filters)
    except (TimeoutError, TwilioException, aiohttp.ClientError) as exc:  # a page: TwilioException
        raise OutcomeUnknown("twilio lookup failed, outcome still unknown", "lookup") from exc
    for message in listed:
        if message.sid not in sent_ids and _same_message(message, since, fields):
            return _result(message)
    return None


def _same_message(message: Any, since: datetime, fields: Mapping[str, Any]) -> bool:
    """Created after the lost attempt began, by the same sender, with the same content."""
    created = message.date_created
    if created is None or created < since - CLOCK_SKEW:
        return False
    if message.direction not in (None, "outbound-api"):
        return False
    service = fields.get("messaging_service_sid")
    if service and message.messaging_service_sid != service:
        return False
    body = str(message.body or "")
    if "body" in fields:
        return body == fields["body"]
    # A Content template: Twilio renders the text, which holds the variables (the portal link).
    variables = json.loads(fields.get("content_variables") or "{}")
    return all(str(value) in body for value in variables.values())


def _result(message: Any) -> SendResult:
    return SendResult(str(message.sid), STATUS_MAP.get(str(message.status), "queued"))


def map_twilio_error(exc: Exception) -> ChannelError:
    """The one place Twilio failures become typed errors."""
    if isinstance(exc, asyncio.TimeoutError):
        # The request may have reached Twilio: look before sending again, never blind.
        return OutcomeUnknown("twilio timeout, outcome unknown", "timeout")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return TransientChannelError("twilio unreachable", "connect")  # never reached Twilio
    if not isinstance(exc, TwilioRestException):
        # The connection broke after the request went out (server disconnected, reset).
        return OutcomeUnknown(f"twilio transport error {type(exc).__name__}", "transport")
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
