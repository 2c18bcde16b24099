"""WhatsApp Cloud API (Meta) directly: signed JSON webhooks, a thin httpx Graph client."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from bot.channels.base import (
    ADDRESS_FORM,
    ChannelLimits,
    Delivery,
    RawRequest,
    SendResult,
    StatusUpdate,
    WebhookBatch,
    json_body,
    parts_taken,
)
from bot.channels.errors import (
    ChannelError,
    MalformedPayload,
    OutcomeUnknown,
    PermanentChannelError,
    RecipientOptedOut,
    ReEngagementRequired,
    TransientChannelError,
)
from bot.channels.rendering import Rendered, render
from bot.channels.whatsapp_numbers import address_form, e164_from_whatsapp, whatsapp_address
from bot.messages import Attachment, Choice, ConversationKey, InboundMessage

# Text bodies may be 4096 characters; reply buttons are at most 3 with 20-character titles,
# and the interactive message carrying them has a body (`interactive.body.text`) of at most
# 1024: a longer text goes first as text messages, the buttons ride on its last 1024.
CLOUD_LIMITS = ChannelLimits(max_chars=4096, max_parts=2, max_buttons=3, button_label_chars=20,
                             button_text_chars=1024)
REENGAGE_CODES = frozenset({131047, 470})  # 131047 succeeded legacy 470: outside the 24h window
OPT_OUT_CODES = frozenset({131050})  # the user stopped messages from this business
TRANSIENT_CODES = frozenset({130429, 131056, 131000, 1, 2})  # rate limits, temporary errors
STATUS_MAP = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed"}
MEDIA_KINDS = frozenset({"image", "document", "audio", "video", "sticker"})
IGNORED_KINDS = frozenset({"reaction"})
DIGITS = re.compile(r"[0-9]{1,20}")
DEFAULT_LANGUAGE = "en"
TEMPLATE_LANGUAGES = {"en": "en_US", "es": "es"}  # Parley locale -> approved template language

log = logging.getLogger(__name__)
T = TypeVar("T")


class WhatsAppCloudAdapter:
    """Holds an `httpx.AsyncClient` for the Graph API; one business phone number."""

    channel = "whatsapp"
    provider = "meta"
    limits = CLOUD_LIMITS

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_url: str,
        phone_number_id: str,
        access_token: str,
        app_secret: str,
        verify_token: str,
        template_languages: Mapping[str, str] | None = None,
    ) -> None:
        self.http = http
        self._phone_number_id = phone_number_id
        self._url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self._auth = {"Authorization": f"Bearer {access_token}"}
        self._secret = app_secret.encode()
        self._verify_token = verify_token
        self._languages = dict(template_languages or TEMPLATE_LANGUAGES)

    def verify(self, request: RawRequest) -> bool:
        """X-Hub-Signature-256 over the raw bytes (re-serialised JSON would not match)."""
        if not self._secret:
            return False  # an empty key would let anyone sign
        expected = "sha256=" + hmac.new(self._secret, request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(request.header("x-hub-signature-256"), expected)

    def challenge(self, mode: str, token: str, challenge: str) -> str | None:
        """The GET subscription handshake: the challenge to echo, or None to refuse."""
        if mode == "subscribe" and self._verify_token and hmac.compare_digest(
                token.encode(), self._verify_token.encode()):
            return challenge
        return None

    async def parse(self, request: RawRequest) -> WebhookBatch:
        """Every message and status for our business number; one broken part rejects them all.

        Messages come in the order the debtor sent them (Meta's `timestamp`, ties as listed):
        Meta may list a batch out of order, and they are stored and answered as returned.
        """
        messages: list[InboundMessage] = []
        statuses: list[StatusUpdate] = []
        for path, value in _values(_object(json_body(request.body), "body")):
            found = _items(value, "messages", path, _inbound)
            updates = _items(value, "statuses", path, _status)
            if (found or updates) and not self._ours(value, path):
                # One app may serve several numbers: another number's debtors are not ours
                # to answer, and a reply would come from our number.
                log.info("whatsapp: %d message(s) and %d status(es) at %s are for another "
                         "business number; ignored", len(found), len(updates), path)
                continue
            messages.extend(self._as_stored(m) for m in found)
            statuses.extend(updates)
        ordered = sorted(messages, key=lambda m: m.received_at)  # stable: ties keep their order
        return WebhookBatch(messages=tuple(ordered), statuses=tuple(statuses))

    def _as_stored(self, message: InboundMessage) -> InboundMessage:
        """The sender as stored (E.164): a Mexican wa_id "521…" is the account's "+52…".

        The form WhatsApp used goes with the message, for Parley to keep and give back.
        """
        given = message.key.address
        key = replace(message.key, address=e164_from_whatsapp(given))
        form = address_form(given)
        metadata = message.metadata if form is None else {**message.metadata, ADDRESS_FORM: form}
        return replace(message, key=key, metadata=metadata)

    def _ours(self, value: dict[str, Any], path: str) -> bool:
        """True when the change names our phone number id as the business number it is for."""
        metadata = _child_object(value, "metadata", path) or {}
        return _string(metadata, "phone_number_id", f"{path}.metadata") == self._phone_number_id

    async def send(self, delivery: Delivery) -> SendResult:
        # After a lost answer (`delivery.unknown_since`) there is nothing to look up: Meta
        # lists no sent messages. A message it took meanwhile was adopted from its status
        # webhook (biz_opaque_callback_data) and is not sent again; this one goes again.
        to = whatsapp_address(delivery.key.address, delivery.address_form).lstrip("+")
        if delivery.use_template:
            return await self._post({"messaging_product": "whatsapp", "to": to,
                                     "biz_opaque_callback_data": delivery.idempotency_key,
                                     **self._template(delivery)})
        rendered = render(delivery.text, delivery.choices, self.limits)
        payloads = _payloads(rendered)
        return await self._send_parts(delivery, to, payloads, None if rendered.buttons
                                      else rendered.text)

    async def _send_parts(self, delivery: Delivery, to: str, payloads: list[dict[str, Any]],
                          text: str | None) -> SendResult:
        """The parts not taken yet; the result names the last part (as Twilio's does) and
        carries every earlier part's id, so each part's statuses find the message."""
        last = len(payloads) - 1
        start = delivery.first_unsent(len(payloads))
        taken = list(delivery.part_ids[:start])
        for i in range(start, len(payloads)):
            try:
                result = await self._post({
                    "messaging_product": "whatsapp", "to": to,
                    "biz_opaque_callback_data": _echo(delivery, i, last), **payloads[i]})
            except ChannelError as exc:
                parts_taken(exc, i, taken)
                raise
            taken.append(result.provider_message_id)
        return replace(result, text=text, part_ids=tuple(taken[:-1]))

    def template_language(self, language: str | None) -> str:
        """The template language code for a Parley locale (the default locale's when unmapped)."""
        found = self._languages.get(language or DEFAULT_LANGUAGE)
        return found or self._languages.get(DEFAULT_LANGUAGE) or TEMPLATE_LANGUAGES["en"]

    def _template(self, delivery: Delivery) -> dict[str, Any]:
        params = [{"type": "text", "text": v} for _, v in sorted(delivery.template_vars.items())]
        language = self.template_language(delivery.language)
        template: dict[str, Any] = {"name": delivery.template, "language": {"code": language}}
        if params:
            template["components"] = [{"type": "body", "parameters": params}]
        return {"type": "template", "template": template}

    async def _post(self, payload: dict[str, Any]) -> SendResult:
        try:
            response = await self.http.post(self._url, headers=self._auth, json=payload)
        except httpx.TransportError as exc:
            raise map_transport_error(exc) from exc
        if response.status_code >= 400:
            raise map_graph_error(response.status_code, _json(response))
        return SendResult(str(response.json()["messages"][0]["id"]), "sent")

    async def close(self) -> None:
        await self.http.aclose()


def _echo(delivery: Delivery, part: int, last: int) -> str:
    """What Meta echoes in the part's statuses: the message's key on its last part only.

    Parts go one after another, so a status for the last one says the whole message was
    taken; one for an earlier part must not have a lost message adopted.
    """
    key = delivery.idempotency_key
    return key if part == last else f"{key}#part{part + 1}"


def map_transport_error(exc: httpx.TransportError) -> ChannelError:
    """A send that got no answer: never sent (retry), or perhaps taken (outcome unknown).

    A timeout after the request went out is no refusal: Meta may have taken the message.
    The Graph API has no lookup of sent messages and no idempotency key, so the outbox
    defers it (no immediate re-send) and the message is adopted when Meta's status webhook
    echoes our `biz_opaque_callback_data` for it; when none came by the next round, it is
    sent again. A possible duplicate is the lesser harm: a reply the debtor waits for (a
    payment link, an opt-out's confirmation, compliance.md A.3 item 45) must not be dropped
    silently, and one that still fails after the retry window goes to a person
    (`reply_undelivered`).
    """
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return TransientChannelError("graph unreachable", "connect")  # nothing was sent
    if isinstance(exc, httpx.TimeoutException):
        return OutcomeUnknown("graph timeout, outcome unknown", "timeout")
    return OutcomeUnknown(f"graph transport error {type(exc).__name__}", "transport")


def map_graph_error(status: int, body: dict[str, Any]) -> ChannelError:
    """The one place Graph API failures become typed errors."""
    error = body.get("error") or {}
    code = error.get("code")
    label = str(code) if code is not None else str(status)
    if code in REENGAGE_CODES:
        return ReEngagementRequired("outside the WhatsApp window", label)
    if code in OPT_OUT_CODES:
        return RecipientOptedOut("recipient stopped messages", label)
    if status == 429 or status >= 500 or code in TRANSIENT_CODES:
        return TransientChannelError(f"graph {status}", label)
    return PermanentChannelError(f"graph {status}", label)


def _payloads(rendered: Rendered) -> list[dict[str, Any]]:
    """One message per part, in order; the buttons ride on the last part."""
    payloads = [_text(part) for part in rendered.parts]
    if rendered.buttons:
        payloads[-1] = _buttons(rendered.parts[-1], rendered.buttons)
    return payloads


def _text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"preview_url": False, "body": body}}


def _buttons(body: str, choices: tuple[Choice, ...]) -> dict[str, Any]:
    buttons = [{"type": "reply", "reply": {"id": c.value, "title": c.label}} for c in choices]
    return {"type": "interactive", "interactive": {
        "type": "button", "body": {"text": body}, "action": {"buttons": buttons}}}


def _values(payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    # One POST can batch several entries and changes: read them all (with their paths).
    entries = _array(payload, "entry", "", required=True)
    found = []
    for i, item in enumerate(entries):
        entry = _object(item, f"entry[{i}]")
        for j, raw in enumerate(_array(entry, "changes", f"entry[{i}]")):
            path = f"entry[{i}].changes[{j}]"
            value = _child_object(_object(raw, path), "value", path)
            found.append((f"{path}.value", value or {}))
    return found


def _items(value: dict[str, Any], key: str, path: str,
           read: Callable[[dict[str, Any], str], T | None]) -> list[T]:
    """`value[key]` read item by item (None from `read`: an item Parley does not use)."""
    found = []
    for i, item in enumerate(_array(value, key, path)):
        at = f"{path}.{key}[{i}]"
        if (parsed := read(_object(item, at), at)) is not None:
            found.append(parsed)
    return found


def _inbound(message: dict[str, Any], path: str) -> InboundMessage | None:
    """The message; None for a reaction (an emoji on an earlier message, not a new one).

    Other kinds without words (a location, a contact card, `unsupported`) are kept with their
    type: the debtor said something, an agent may need to see that they did.
    """
    message_id = _string(message, "id", path, required=True)
    sender = _string(message, "from", path, required=True)
    received = _timestamp(message, path)
    kind = _string(message, "type", path)
    if kind in IGNORED_KINDS:
        return None
    text, choice = _text_of(message, kind, path)
    media = _media(message, kind, path)
    return InboundMessage(
        key=ConversationKey("whatsapp", "+" + sender.lstrip("+")),
        text=text, provider_message_id=message_id, received_at=received,
        attachments=media, choice_value=choice, metadata={"type": kind},
    )


def _media(message: dict[str, Any], kind: str, path: str) -> tuple[Attachment, ...]:
    # Meta sends a media id, not a URL: GET {api_url}/{id} with the token gives a short-lived one.
    if kind not in MEDIA_KINDS:
        return ()
    media = _child_object(message, kind, path, required=True) or {}
    media_id = _string(media, "id", f"{path}.{kind}", required=True)
    mime = _string(media, "mime_type", f"{path}.{kind}")
    return (Attachment(f"whatsapp-media:{kind}:{media_id}", mime or None),)


def _text_of(message: dict[str, Any], kind: str, path: str) -> tuple[str, str | None]:
    if kind not in ("text", "button", "interactive") and kind not in MEDIA_KINDS:
        return "", None
    part = _child_object(message, kind, path, required=True) or {}
    where = f"{path}.{kind}"
    if kind == "text":
        return _string(part, "body", where), None
    if kind == "button":
        return _string(part, "text", where), _string(part, "payload", where) or None
    if kind == "interactive":
        # A reply button's or a list row's pick; a Flow's `nfm_reply` carries neither: ignored.
        key = "button_reply" if part.get("button_reply") is not None else "list_reply"
        picked, at = _child_object(part, key, where) or {}, f"{where}.{key}"
        return _string(picked, "title", at), _string(picked, "id", at) or None
    return _string(part, "caption", where), None


def _status(status: dict[str, Any], path: str) -> StatusUpdate | None:
    status_id = _string(status, "id", path, required=True)
    mapped = STATUS_MAP.get(_string(status, "status", path, required=True))
    errors = _array(status, "errors", path)
    first = _object(errors[0], f"{path}.errors[0]") if errors else None
    if first is not None and first.get("code") is not None and not _is_int(first["code"]):
        raise MalformedPayload(f"{path}.errors[0].code", "not an integer")
    echoed = _string(status, "biz_opaque_callback_data", path) or None  # sent with each message
    if mapped is None:
        return None  # a status Parley does not track
    if first is None:
        return StatusUpdate(status_id, mapped, idempotency_key=echoed)
    # 131047 may come back as a failed status instead of a 400 on send: same mapping for both.
    error = map_graph_error(400, {"error": first})
    return StatusUpdate(status_id, mapped, error.code, error, idempotency_key=echoed)


# Typed reads of the payload: each names the path of what is missing or of the wrong type.


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(path, "not an object")
    return value


def _child_object(parent: dict[str, Any], key: str, path: str, *, required: bool = False
                  ) -> dict[str, Any] | None:
    value = parent.get(key)
    if value is None:
        if required:
            raise MalformedPayload(_join(path, key), "required")
        return None
    return _object(value, _join(path, key))


def _array(parent: dict[str, Any], key: str, path: str, *, required: bool = False) -> list[Any]:
    value = parent.get(key)
    if value is None:
        if required:
            raise MalformedPayload(_join(path, key), "required")
        return []
    if not isinstance(value, list):
        raise MalformedPayload(_join(path, key), "not a list")
    return value


def _string(parent: dict[str, Any], key: str, path: str, *, required: bool = False) -> str:
    value = parent.get(key)
    if value is None or value == "":
        if required:
            raise MalformedPayload(_join(path, key), "required")
        return ""
    if not isinstance(value, str):
        raise MalformedPayload(_join(path, key), "not a string")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _timestamp(message: dict[str, Any], path: str) -> datetime:
    """Meta's `timestamp`: Unix seconds, as a string of digits (an integer is accepted too)."""
    value = message.get("timestamp")
    where = _join(path, "timestamp")
    if value is None or value == "":
        raise MalformedPayload(where, "required")
    if not (_is_int(value) or (isinstance(value, str) and DIGITS.fullmatch(value))):
        raise MalformedPayload(where, "not an integer timestamp")
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedPayload(where, "timestamp out of range") from None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
