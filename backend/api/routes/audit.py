"""`GET /api/accounts/{id}/audit`: every audit event about one account, as JSON pages or CSV."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.deps import MAX_ID, ApiClient, IdPath, SessionDep
from backend.db.models import Account, AuditEvent
from backend.reports.csv import rows_to_csv
from backend.services import audit

router = APIRouter(prefix="/api/accounts", tags=["audit"])
MAX_PAGE = 500
DEFAULT_PAGE = 100
CSV_COLUMNS = [
    "id",
    "occurred_at",
    "action",
    "actor",
    "subject_type",
    "subject_id",
    "reason",
    "rule",
    "detail",
]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or every event as CSV"}
}


class AuditEventPublic(BaseModel):
    """One audit event: what happened, who did it, to what, and the detail recorded with it."""

    id: int
    occurred_at: datetime
    action: str = Field(description="e.g. compliance.blocked, contact.opted_out, contact.opted_in")
    actor: str
    subject_type: str = Field(description="account, debtor, contact_point, conversation, message…")
    subject_id: str | None
    detail: dict[str, Any] = Field(
        description=(
            "as recorded: a gate decision's reason, rule, local time and 7-day count; addresses"
            " masked to their last four characters, never a message body"
        )
    )


class AuditPage(BaseModel):
    """One page of an account's audit events, oldest first."""

    items: list[AuditEventPublic]
    next_after_id: int | None = Field(
        description="pass as after_id for the next page; null at the end"
    )


@dataclass(frozen=True)
class AuditRow:
    """One event as a CSV row."""

    id: int
    occurred_at: datetime
    action: str
    actor: str
    subject_type: str
    subject_id: str | None
    reason: Any
    rule: Any
    detail: str


async def account_events(
    session: AsyncSession, account_id: int, *, after_id: int = 0, limit: int | None = None
) -> list[AuditEvent] | None:
    """The events about the account, oldest first; None when there is no such account."""
    account = await session.get(Account, account_id)
    if account is None:
        return None
    return await audit.events_about(
        session, audit.account_subjects(account), after_id=after_id, limit=limit
    )


def events_to_csv(events: Iterable[AuditEvent]) -> str:
    """The events as CSV; a cell a spreadsheet would run as a formula is quoted."""
    return rows_to_csv(CSV_COLUMNS, (_row(e) for e in events))


def _row(event: AuditEvent) -> AuditRow:
    data = event.data or {}
    return AuditRow(
        id=event.id,
        occurred_at=event.occurred_at,
        action=event.action,
        actor=event.actor,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        reason=data.get("reason"),
        rule=data.get("rule"),
        detail=json.dumps(data, sort_keys=True, default=str),
    )


def _public(event: AuditEvent) -> AuditEventPublic:
    return AuditEventPublic(
        id=event.id,
        occurred_at=event.occurred_at,
        action=event.action,
        actor=event.actor,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        detail=event.data or {},
    )


@router.get("/{account_id}/audit", response_model=AuditPage, responses=CSV_RESPONSE)
async def read_account_audit(
    account_id: IdPath,
    session: SessionDep,
    _: ApiClient,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID, description="events after this id")] = 0,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_PAGE,
            description=(f"events per page (default {DEFAULT_PAGE}; with format=csv, every event)"),
        ),
    ] = None,
    fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Any:
    """Every audit event about the account, its debtor, the debtor's contact points, its
    conversations, their messages and its planned contacts, oldest first: gate decisions
    with the rule cited, opt-outs and opt-ins, payments, hand-offs (compliance.md item 29)."""
    page = limit if limit is not None or fmt == "csv" else DEFAULT_PAGE
    events = await account_events(session, account_id, after_id=after_id, limit=page)
    if events is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account {account_id}")
    if fmt == "csv":
        disposition = f'attachment; filename="account-{account_id}-audit.csv"'
        return Response(
            events_to_csv(events),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": disposition},
        )
    full = page is not None and len(events) == page
    return AuditPage(
        items=[_public(e) for e in events], next_after_id=events[-1].id if full else None
    )
