"""Agreements from the console: a promise or a plan inside the policy, a payment link."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from backend.api.deps import ContainerDep
from backend.console import agreements
from backend.console.deps import ConsoleRoute, Viewer, back_to, viewer_dep
from backend.console.notices import Notice
from backend.console.permissions import Perm
from backend.console.replies import send_agent_reply
from backend.console.routes.conversation import render_conversation
from backend.db.models import Conversation
from backend.services.handoff import AGENT

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Acting = Annotated[Viewer, viewer_dep(Perm.ACCOUNT_ACTION)]
CENT = Decimal("0.01")
MAX_INSTALLMENTS = 120


@router.post("/conversations/{conversation_id}/promise")
async def promise(
    request: Request, conversation_id: int, container: ContainerDep, viewer: Acting,
    amount: Annotated[str, Form()], due: Annotated[str, Form()],
) -> Response:
    """Record a promise to pay, if the portfolio's policy allows it."""
    if not await _may_act(container, viewer, conversation_id):
        return back_to(f"/console/conversations/{conversation_id}", notice="not_yours")
    money, day = _amount(amount), _day(due)
    if money is None or day is None:
        return await _refused(request, container, viewer, conversation_id,
                              "give an amount like 25.00 and a date")
    try:
        result = await agreements.record_promise(container, conversation_id, viewer.id,
                                                 money, day)
    except agreements.NotAgreeable as error:
        return await _refused(request, container, viewer, conversation_id, str(error))
    return await _done(request, container, viewer, conversation_id, result, "promise_recorded")


@router.post("/conversations/{conversation_id}/plan")
async def plan(
    request: Request, conversation_id: int, container: ContainerDep, viewer: Acting,
    count: Annotated[str, Form()], frequency: Annotated[str, Form()],
    first: Annotated[str, Form()],
) -> Response:
    """Record a payment plan of the balance, if the policy allows it."""
    if not await _may_act(container, viewer, conversation_id):
        return back_to(f"/console/conversations/{conversation_id}", notice="not_yours")
    installments, day = _count(count), _day(first)
    if installments is None or day is None:
        return await _refused(request, container, viewer, conversation_id,
                              f"give 1 to {MAX_INSTALLMENTS} installments and a first date")
    try:
        result = await agreements.record_plan(container, conversation_id, viewer.id,
                                              installments, frequency, day)
    except agreements.NotAgreeable as error:
        return await _refused(request, container, viewer, conversation_id, str(error))
    return await _done(request, container, viewer, conversation_id, result, "plan_recorded")


@router.post("/conversations/{conversation_id}/payment-link")
async def payment_link(
    request: Request, conversation_id: int, container: ContainerDep, viewer: Acting,
    amount: Annotated[str, Form()], recipient_verified: Annotated[bool, Form()] = False,
) -> Response:
    """Send a signed payment link in a reply (through the compliance gate)."""
    money = _amount(amount)
    if money is None:
        return await _refused(request, container, viewer, conversation_id,
                              "give an amount like 25.00")
    try:
        link = await agreements.payment_link(container, conversation_id, money)
    except agreements.NotAgreeable as error:
        return await _refused(request, container, viewer, conversation_id, str(error))
    if not link.ok or link.url is None:
        return await _refused(request, container, viewer, conversation_id, link.reason or "")
    outcome = await send_agent_reply(
        container, conversation_id, viewer.id, f"You can pay securely here: {link.url}",
        discusses_debt=True, recipient_verified=recipient_verified,
        nonce=secrets.token_hex(8),
    )
    code = {"pending": "link_sent"}.get(outcome.status, outcome.status)
    return back_to(f"/console/conversations/{conversation_id}", notice=code,
                   reason=outcome.reason)


def _amount(raw: str) -> Decimal | None:
    """A positive amount in cents, or None (the form shows why instead of a JSON error)."""
    try:
        value = Decimal(raw.strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value != value.quantize(CENT):
        return None
    return value


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def _count(raw: str) -> int | None:
    value = int(raw) if raw.strip().isdigit() else 0
    return value if 1 <= value <= MAX_INSTALLMENTS else None


async def _may_act(container: ContainerDep, viewer: Viewer, conversation_id: int) -> bool:
    async with container.sessions() as db:
        conversation = await db.get(Conversation, conversation_id)
    if conversation is None:
        return False
    owned = conversation.ownership == AGENT and conversation.agent_id == viewer.id
    return owned or viewer.can(Perm.OVERRIDE)


async def _done(request: Request, container: ContainerDep, viewer: Viewer,
                conversation_id: int, result: agreements.Agreed, code: str) -> Response:
    if not result.ok:
        return await _refused(request, container, viewer, conversation_id, result.reason or "")
    # Redirected: reloading the page must not post the agreement again.
    return back_to(f"/console/conversations/{conversation_id}", notice=code)


async def _refused(request: Request, container: ContainerDep, viewer: Viewer,
                   conversation_id: int, reason: str) -> Response:
    # Rendered, not redirected: the policy's reason never travels in a URL.
    return await render_conversation(request, container, viewer, conversation_id,
                                     Notice("error", f"Not recorded: {reason}."), 422)
