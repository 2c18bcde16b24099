"""SMS/MMS through Twilio: signed form webhooks in, REST sends with a status callback out."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from twilio.rest import Client

from bot.channels.base import ChannelLimits, Delivery, RawRequest, SendResult, WebhookBatch
from bot.channels.rendering import render
from bot.channels.twilio_common import (
    TwilioSignature,
    addressed_to,
    create_message,
    for_account,
    inbound_from_form,
    is_status_callback,
    parse_form,
    status_from_form,
)
from bot.clock import Clock

# Twilio accepts a Body of up to 1600 characters and segments it for the carrier itself.
SMS_LIMITS = ChannelLimits(max_chars=1600, max_parts=1)


class TwilioSmsAdapter:
    """Holds a twilio `Client`; the sender is a number or a Messaging Service."""

    channel = "sms"
    provider = "twilio"
    limits = SMS_LIMITS

    def __init__(
        self,
        client: Client,
        signature: TwilioSignature,
        clock: Clock,
        *,
        sender: str | None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
    ) -> None:
        self.client = client
        self._signature = signature
        self._clock = clock
        self._sender = sender
        self._service = messaging_service_sid
        self._status_callback = status_callback

    def verify(self, request: RawRequest) -> bool:
        """The signature first, then the AccountSid."""
        return self._signature.verify(request) and for_account(request, self.client.account_sid)

    async def parse(self, request: RawRequest) -> WebhookBatch:
        form = parse_form(request.body)
        if is_status_callback(form):
            status = status_from_form(form)
            return WebhookBatch(statuses=(status,) if status else ())
        inbound = inbound_from_form(form, self.channel, self._clock.now())
        if not addressed_to(form, self.channel, (self._sender,), self._service):
            return WebhookBatch()
        return WebhookBatch(messages=(inbound,))

    async def send(self, delivery: Delivery) -> SendResult:
        """One API call (Twilio segments the body); the result carries the body as sent."""
        body = render(delivery.text, delivery.choices, self.limits).parts[0]
        result = await create_message(self.client, unknown_since=delivery.unknown_since,
                                      sent_ids=delivery.sent_ids, to=delivery.key.address,
                                      body=body, **self.sender_fields())
        return replace(result, text=body)

    def sender_fields(self) -> dict[str, Any]:
        """From number or Messaging Service, plus the status callback."""
        fields: dict[str, Any] = {}
        if self._service:
            fields["messaging_service_sid"] = self._service
        else:
            fields["from_"] = self._sender
        if self._status_callback:
            fields["status_callback"] = self._status_callback
        return fields

    async def close(self) -> None:
        await self.client.http_client.close()
