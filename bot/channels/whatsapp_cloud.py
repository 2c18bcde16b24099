"""WhatsApp Cloud API (Meta) directly: signed JSON webhooks, a thin httpx Graph client."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.channels.base import (
    ChannelLimits,
    Delivery,
    RawRequest,
    SendResult,
    StatusUpdate,
    WebhookBatch,
)
from bot.channels.errors import (
    ChannelError,
    PermanentChannelError,
    RecipientOptedOut,
    ReEngagementRequired,
    TransientChannelError,
)
from bot.channels.rendering import render
from bot.messages import Attachment, ConversationKey, InboundMessage

# Text bodies may be 4096 characters; reply buttons are at most 3 with 20-character titles.
CLOUD_LIMITS = ChannelLimits(max_chars=4096, max_parts=2, max_buttons=3, button_label_chars=20)
REENGAGE_CODES = frozenset({131047, 470})  # 131047 succeeded legacy 470: outside the 24h window
OPT_OUT_CODES = frozenset({131050})  # the user stopped messages from this business
TRANSIENT_CODES = frozenset({130429, 131056, 131000, 1, 2})  # rate limits, temporary errors
STATUS_MAP = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed"}
MEDIA_KINDS = frozenset({"image", "document", "audio", "video", "sticker"})
DEFAULT_LANGUAGE = "en"
TEMPLATE_LANGUAGES = {"en": "en_US", "es": "es"}  # Parley locale -> approved template language


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
        self._url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self._auth = {"Authorization": f"Bearer {access_token}"}
        self._secret = app_secret.encode()
        self._verify_token = verify_token
        self._languages = dict(template_languages or TEMPLATE_LANGUAGES)

    def verify(self, request: RawRequest) -> bool:
        """X-Hub-Signature-256 over the raw bytes (re-serialised JSON would not match)."""
        expected = "sha256=" + hmac.new(self._secret, request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(request.header("x-hub-signature-256"), expected)

    def challenge(self, mode: str, token: str, challenge: str) -> str | None:
        """The GET subscription handshake: the challenge to echo, or None to refuse."""
        if mode == "subscribe" and hmac.compare_digest(token.encode(), self._verify_token.encode()):
            return challenge
        return None

    async def parse(self, request: RawRequest) -> WebhookBatch:
        messages: list[InboundMessage] = []
        statuses: list[StatusUpdate] = []
        for value in _values(json.loads(request.body)):
            messages.extend(m for m in map(_inbound, value.get("messages", [])) if m)
            statuses.extend(s for s in map(_status, value.get("statuses", [])) if s)
        return WebhookBatch(messages=tuple(messages), statuses=tuple(statuses))

    async def send(self, delivery: Delivery) -> SendResult:
        to = delivery.key.address.lstrip("+")
        payloads = (
            [self._template(delivery)] if delivery.use_template else _texts(delivery, self.limits)
        )
        results = [await self._post({"messaging_product": "whatsapp", "to": to,
                                     "biz_opaque_callback_data": delivery.idempotency_key, **p})
                   for p in payloads]
        return results[0]

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
        except httpx.TimeoutException as exc:
            raise PermanentChannelError("graph timeout, outcome unknown", "timeout") from exc
        except httpx.TransportError as exc:
            raise TransientChannelError("graph unreachable", "connect") from exc
        if response.status_code >= 400:
            raise map_graph_error(response.status_code, _json(response))
        return SendResult(str(response.json()["messages"][0]["id"]), "sent")

    async def close(self) -> None:
        await self.http.aclose()


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


def _texts(delivery: Delivery, limits: ChannelLimits) -> list[dict[str, Any]]:
    rendered = render(delivery.text, delivery.choices, limits)
    if rendered.buttons:
        buttons = [{"type": "reply", "reply": {"id": c.value, "title": c.label}}
                   for c in rendered.buttons]
        return [{"type": "interactive", "interactive": {
            "type": "button", "body": {"text": rendered.parts[0]}, "action": {"buttons": buttons}}}]
    return [{"type": "text", "text": {"preview_url": False, "body": part}}
            for part in rendered.parts]


def _values(payload: dict[str, Any]) -> list[dict[str, Any]]:
    # One POST can batch several entries and changes: read them all.
    return [change.get("value", {}) for entry in payload.get("entry", [])
            for change in entry.get("changes", [])]


def _inbound(message: dict[str, Any]) -> InboundMessage | None:
    text, choice = _text_of(message)
    if not message.get("id") or not message.get("from"):
        return None
    received = datetime.fromtimestamp(int(message.get("timestamp", 0)), UTC)
    return InboundMessage(
        key=ConversationKey("whatsapp", "+" + str(message["from"]).lstrip("+")),
        text=text, provider_message_id=str(message["id"]), received_at=received,
        attachments=_media(message), choice_value=choice,
        metadata={"type": message.get("type", "")},
    )


def _media(message: dict[str, Any]) -> tuple[Attachment, ...]:
    # Meta sends a media id, not a URL: GET {api_url}/{id} with the token gives a short-lived one.
    kind = str(message.get("type", ""))
    media = message.get(kind) if kind in MEDIA_KINDS else None
    if not isinstance(media, dict) or not media.get("id"):
        return ()
    return (Attachment(f"whatsapp-media:{kind}:{media['id']}", media.get("mime_type") or None),)


def _text_of(message: dict[str, Any]) -> tuple[str, str | None]:
    kind = message.get("type")
    if kind == "text":
        return message.get("text", {}).get("body", ""), None
    if kind == "button":
        button = message.get("button", {})
        return button.get("text", ""), button.get("payload")
    if kind == "interactive":
        reply = message.get("interactive", {})
        picked = reply.get("button_reply") or reply.get("list_reply") or {}
        return picked.get("title", ""), picked.get("id")
    if kind in MEDIA_KINDS:
        return message.get(kind, {}).get("caption", ""), None
    return "", None


def _status(status: dict[str, Any]) -> StatusUpdate | None:
    mapped = STATUS_MAP.get(status.get("status", ""))
    if mapped is None or not status.get("id"):
        return None
    errors = status.get("errors") or []
    if not errors:
        return StatusUpdate(str(status["id"]), mapped)
    # 131047 may come back as a failed status instead of a 400 on send: same mapping for both.
    error = map_graph_error(400, {"error": errors[0]})
    return StatusUpdate(str(status["id"]), mapped, error.code, error)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
