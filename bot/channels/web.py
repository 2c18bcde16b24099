"""The web portal's chat: nothing to call, the portal reads replies from the database."""

from __future__ import annotations

from bot.channels.base import ChannelLimits, Delivery, RawRequest, SendResult, WebhookBatch

WEB_LIMITS = ChannelLimits(max_chars=4000, max_parts=1, max_buttons=6, button_label_chars=60)


class WebChannelAdapter:
    """'Sending' marks the stored message delivered; there is no webhook to verify."""

    channel = "web"
    provider = "web"
    limits = WEB_LIMITS

    def verify(self, request: RawRequest) -> bool:
        return False

    async def parse(self, request: RawRequest) -> WebhookBatch:
        return WebhookBatch()

    async def send(self, delivery: Delivery) -> SendResult:
        return SendResult(f"web:{delivery.idempotency_key}", "delivered")

    async def close(self) -> None:
        return None
