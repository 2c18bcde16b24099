"""WhatsApp through Twilio: `whatsapp:` addresses, Content templates outside the 24-hour window."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from twilio.rest import Client

from bot.channels.base import (
    ADDRESS_FORM,
    ChannelLimits,
    Delivery,
    RawRequest,
    SendResult,
    WebhookBatch,
    parts_taken,
)
from bot.channels.errors import ChannelError, PermanentChannelError
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
from bot.channels.whatsapp_numbers import address_form, e164_from_whatsapp, whatsapp_address
from bot.clock import Clock

WHATSAPP_TWILIO_LIMITS = ChannelLimits(max_chars=1600, max_parts=2)


class TwilioWhatsAppAdapter:
    """Holds a twilio `Client`; templates are Content SIDs (HX...) or names mapped to them."""

    channel = "whatsapp"
    provider = "twilio"
    limits = WHATSAPP_TWILIO_LIMITS

    def __init__(
        self,
        client: Client,
        signature: TwilioSignature,
        clock: Clock,
        *,
        sender: str,
        status_callback: str | None = None,
        content_sids: Mapping[str, str] | None = None,
    ) -> None:
        self.client = client
        self._signature = signature
        self._clock = clock
        self._sender = sender if sender.startswith("whatsapp:") else f"whatsapp:{sender}"
        self._status_callback = status_callback
        self._content_sids = dict(content_sids or {})

    def verify(self, request: RawRequest) -> bool:
        """The signature first, then the AccountSid."""
        return self._signature.verify(request) and for_account(request, self.client.account_sid)

    async def parse(self, request: RawRequest) -> WebhookBatch:
        form = parse_form(request.body)
        if is_status_callback(form):
            status = status_from_form(form)
            return WebhookBatch(statuses=(status,) if status else ())
        inbound = inbound_from_form(form, self.channel, self._clock.now())
        if not addressed_to(form, self.channel, (self._sender,)):
            return WebhookBatch()
        # The stored contact points are E.164: whatsapp:+521… (Mexico) is matched as +52…,
        # and the form WhatsApp used goes with the message, for Parley to keep and give back.
        given = inbound.key.address
        key = replace(inbound.key, address=e164_from_whatsapp(given))
        named = address_form(given)
        metadata = inbound.metadata if named is None else {**inbound.metadata, ADDRESS_FORM: named}
        return WebhookBatch(messages=(replace(inbound, key=key, metadata=metadata),))

    async def send(self, delivery: Delivery) -> SendResult:
        to = f"whatsapp:{whatsapp_address(delivery.key.address, delivery.address_form)}"
        extra: dict[str, Any] = {"unknown_since": delivery.unknown_since,
                                 "sent_ids": delivery.sent_ids, "to": to, "from_": self._sender}
        if self._status_callback:
            extra["status_callback"] = self._status_callback
        if delivery.use_template:
            # Since 2025-04-01 a template in Body outside the window fails (63016): use ContentSid.
            return await create_message(
                self.client, content_sid=self._content_sid(delivery),
                content_variables=json.dumps(dict(delivery.template_vars)), **extra,
            )
        return await self._send_parts(delivery, extra)

    async def _send_parts(self, delivery: Delivery, extra: dict[str, Any]) -> SendResult:
        """The parts not taken yet, one message each; the result names the last part, whose
        status callbacks stand for the message (it goes once the others were taken).

        A failure says which parts were taken (`parts_taken`): the retry starts after them.
        Only the first part of a round may hide behind a lost reply (a lost reply ends the
        round), so only it is looked up before it goes.
        """
        rendered = render(delivery.text, delivery.choices, self.limits)
        start = delivery.first_unsent(len(rendered.parts))
        taken = list(delivery.part_ids[:start])
        for index in range(start, len(rendered.parts)):
            fields = extra if index == start else {**extra, "unknown_since": None}
            try:
                result = await create_message(self.client, body=rendered.parts[index], **fields)
            except ChannelError as exc:
                parts_taken(exc, index, taken)
                raise
            taken.append(result.provider_message_id)
        return replace(result, text=rendered.text, part_ids=tuple(taken[:-1]))

    def _content_sid(self, delivery: Delivery) -> str:
        """The template's Content SID in the message's language (`name.es`), else its own.

        A Twilio Content template holds one language, so a Spanish debtor's reminder needs
        the Spanish one's SID; `name` alone serves every language not given.
        """
        name = delivery.template or ""
        localized = self._content_sids.get(f"{name}.{delivery.language}")
        sid = name if name.startswith("HX") else localized or self._content_sids.get(name)
        if not sid:
            raise PermanentChannelError(f"no Twilio Content SID for template {name!r}", "template")
        return sid

    async def close(self) -> None:
        await self.client.http_client.close()
