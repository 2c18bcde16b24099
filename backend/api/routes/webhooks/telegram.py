"""The Telegram webhook: secret header checked, update stored and fed to aiogram."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, Response

from backend.api.routes.webhooks.common import adapter_for, receive

router = APIRouter()


@router.post("/telegram")
async def telegram_update(request: Request, background: BackgroundTasks) -> Response:
    """One update; duplicates (same bot and update id) are acknowledged and ignored."""
    adapter = adapter_for(request, "telegram", "telegram")
    return await receive(request, background, adapter, Response(status_code=200))
