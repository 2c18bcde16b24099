"""Provider webhooks: verified, stored before the ack, duplicates acknowledged and ignored."""

from fastapi import APIRouter

from backend.api.routes.webhooks import telegram, twilio, whatsapp

router = APIRouter(prefix="/webhooks", tags=["webhooks"], include_in_schema=False)
router.include_router(twilio.router)
router.include_router(whatsapp.router)
router.include_router(telegram.router)

__all__ = ["router"]
