"""`POST /api/accounts/{id}/remind`: send the first reminder through the compliance gate."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from backend.api.deps import ApiClient, ContainerDep, IdPath
from backend.services.reminders import send_reminder

router = APIRouter(prefix="/api/accounts", tags=["reminders"])


class ReminderPublic(BaseModel):
    """What the gate decided for the reminder."""

    account_id: int
    channel: str | None
    message_id: int | None
    status: str
    reason: str | None = None
    not_before: datetime | None = None


@router.post("/{account_id}/remind", response_model=ReminderPublic)
async def remind(account_id: IdPath, container: ContainerDep, client: ApiClient) -> ReminderPublic:
    """Submit a reminder on the best allowed channel; it is sent once the gate allows it."""
    services = container.services
    async with container.sessions.begin() as session:
        result = await send_reminder(session, services["outbox"], services["gate"], account_id,
                                     container.clock.now(), services["adapters"],
                                     services.get("portal_links"))
    if result.reason == "unknown_account":
        # As the other account routes say it, so a creditor-bound key cannot tell another
        # creditor's account (refused the same way in backend.api.deps) from a missing one.
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account {account_id}")
    decision = result.decision
    if result.reason == "already_reminded":  # the first reminder goes once per account
        return ReminderPublic(account_id=account_id, channel=result.channel,
                              message_id=result.message_id, status="skipped",
                              reason=result.reason)
    if decision is None:
        return ReminderPublic(account_id=account_id, channel=None, message_id=None,
                              status="blocked", reason=result.reason)
    if decision.allowed and decision.message_id is not None:
        await services["outbox"].send([decision.message_id])
    return ReminderPublic(account_id=account_id, channel=result.channel,
                          message_id=decision.message_id, status=decision.status,
                          reason=decision.reason, not_before=decision.not_before)
