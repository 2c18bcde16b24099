"""Agreements from the console: a promise, plan or settlement the policy allows, a payment link."""

from __future__ import annotations

import re
import secrets
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from backend.api.deps import ContainerDep
from backend.console import agreements
from backend.console.deps import ConsoleRoute, Viewer, back_to, conversation_dep
from backend.console.notices import Notice, delivery_notice
from backend.console.permissions import Perm
from backend.console.replies import send_agent_reply
from backend.console.routes.conversation import render_conversation
from backend.console.routes.handling import delivered
from backend.db.models import Conversation
from backend.services.handoff import AGENT
from backend.services.imports.rows import AMOUNT_RE

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Acting = Annotated[Viewer, conversation_dep(Perm.ACCOUNT_ACTION)]
MAX_INSTALLMENTS = 120
# ASCII digits only: str.isdigit() and Decimal() also take "²", "٣" and "1_000".
AMOUNT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")
AMOUNT_HINT = "give an amount like 25.00 or 1,250.00"
# "12,50" is twelve and a half where a comma marks the decimals: refused, never read as 1250.
DECIMAL_COMMA_HINT = ("a comma only separates thousands (1,250.00); write the cents after a "
                      "point, like 12.50")
COUNT = re.compile(r"[0-9]{1,3}")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A plan's schedule runs up to ten years on: dates near year 9999 would leave the calendar.
MAX_YEARS_AWAY = 50


@router.post("/conversations/{conversation_id}/promise")
async def promise(
    request: Request, conversation_id: int, container: ContainerDep, viewer: Acting,
    amount: Annotated[str, Form()], due: Annotated[str, Form()],
) -> Response:
    """Record a promise to pay, if the portfolio's policy allows it."""
    if not await _may_act(container, viewer, conversation_id):
        return back_to(f"/console/conversations/{conversation_id}", notice="not_yours")
    money = _amount(amount)
    day = _day(due, await agreements.local_today(container, conversation_id))
    if money is None or day is None:
        return await _refused(request, container, viewer, conversation_id,
                              _amount_hint(amount) if money is None else "give a date")
    try:
        result = await agreements.record_promise(container, conversation_id, viewer.id,
                                                 money, day,
                                                 may_approve=viewer.can(Perm.APPROVE))
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
    installments = _count(count)
    day = _day(first, await agreements.local_today(container, conversation_id))
    if installments is None or day is None:
        return await _refused(request, container, viewer, conversation_id,
                              f"give 1 to {MAX_INSTALLMENTS} installments and a first date")
    try:
        result = await agreements.record_plan(container, conversation_id, viewer.id,
                                              installments, frequency, day,
                                              may_approve=viewer.can(Perm.APPROVE))
    except agreements.NotAgreeable as error:
        return await _refused(request, container, viewer, conversation_id, str(error))
    if result.replaced_plans or result.cancelled_promises:
        # The ledger cancels them with the new plan: the agent is told what went.
        return await _done(request, container, viewer, conversation_id, result, "plan_replaced",
                           f"{result.replaced_plans}:{result.cancelled_promises}")
    return await _done(request, container, viewer, conversation_id, result, "plan_recorded")


@router.post("/conversations/{conversation_id}/settlement")
async def settlement(
    request: Request, conversation_id: int, container: ContainerDep, viewer: Acting,
    amount: Annotated[str, Form()], due: Annotated[str, Form()],
) -> Response:
    """Record a settlement (a lump sum less than the balance, paid by `due`), if the policy
    allows it."""
    if not await _may_act(container, viewer, conversation_id):
        return back_to(f"/console/conversations/{conversation_id}", notice="not_yours")
    money = _amount(amount)
    day = _day(due, await agreements.local_today(container, conversation_id))
    if money is None or day is None:
        return await _refused(request, container, viewer, conversation_id,
                              _amount_hint(amount) if money is None else "give a date")
    try:
        result = await agreements.record_settlement(container, conversation_id, viewer.id,
                                                    money, day,
                                                    may_approve=viewer.can(Perm.APPROVE))
    except agreements.NotAgreeable as error:
        return await _refused(request, container, viewer, conversation_id, str(error))
    if result.replaced_plans or result.cancelled_promises:
        return await _done(request, container, viewer, conversation_id, result,
                           "settlement_replaced",
                           f"{result.replaced_plans}:{result.cancelled_promises}")
    return await _done(request, container, viewer, conversation_id, result,
                       "settlement_recorded")


@router.post("/conversations/{conversation_id}/payment-link")
async def payment_link(
    request: Request, conversation_id: int, container: ContainerDep, viewer: Acting,
    amount: Annotated[str, Form()], recipient_verified: Annotated[bool, Form()] = False,
) -> Response:
    """Send a signed payment link in a reply (through the compliance gate)."""
    money = _amount(amount)
    if money is None:
        return await _refused(request, container, viewer, conversation_id,
                              _amount_hint(amount))
    try:
        link = await agreements.payment_link(container, conversation_id, money)
    except agreements.NotAgreeable as error:
        return await _refused(request, container, viewer, conversation_id, str(error))
    if not link.ok or link.url is None:
        return await _refused(request, container, viewer, conversation_id, link.reason or "")
    outcome = await send_agent_reply(
        container, conversation_id, viewer.id, link.text or link.url, discusses_debt=True,
        recipient_verified=recipient_verified, nonce=secrets.token_hex(8),
    )
    status, reason = await delivered(container, outcome)
    return back_to(f"/console/conversations/{conversation_id}",
                   notice=delivery_notice(status, link=True), reason=reason)


def _amount(raw: str) -> Decimal | None:
    """A positive amount in cents, or None (the form shows why instead of a JSON error).

    Written as the CSV import takes it (commas only between groups of three digits)."""
    text = raw.strip()
    if not AMOUNT_RE.fullmatch(text):
        return None
    digits = text.removeprefix("$").replace(",", "")
    if not AMOUNT.fullmatch(digits):
        return None
    value = Decimal(digits)
    return value if value > 0 else None


def _amount_hint(raw: str) -> str:
    """What to write instead of an amount `_amount` refused."""
    return DECIMAL_COMMA_HINT if "," in raw else AMOUNT_HINT


def _day(raw: str, today: date) -> date | None:
    """A YYYY-MM-DD date within MAX_YEARS_AWAY of today, or None."""
    text = raw.strip()
    if not DAY.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if abs(day.year - today.year) <= MAX_YEARS_AWAY else None


def _count(raw: str) -> int | None:
    text = raw.strip()
    value = int(text) if COUNT.fullmatch(text) else 0
    return value if 1 <= value <= MAX_INSTALLMENTS else None


async def _may_act(container: ContainerDep, viewer: Viewer, conversation_id: int) -> bool:
    async with container.sessions() as db:
        conversation = await db.get(Conversation, conversation_id)
    if conversation is None:
        return False
    owned = conversation.ownership == AGENT and conversation.agent_id == viewer.id
    return owned or viewer.can(Perm.OVERRIDE)


async def _done(request: Request, container: ContainerDep, viewer: Viewer,
                conversation_id: int, result: agreements.Agreed, code: str,
                reason: str | None = None) -> Response:
    if not result.ok:
        return await _refused(request, container, viewer, conversation_id, result.reason or "")
    # Redirected: reloading the page must not post the agreement again.
    return back_to(f"/console/conversations/{conversation_id}", notice=code, reason=reason)


async def _refused(request: Request, container: ContainerDep, viewer: Viewer,
                   conversation_id: int, reason: str) -> Response:
    # Rendered, not redirected: the policy's reason never travels in a URL.
    return await render_conversation(request, container, viewer, conversation_id,
                                     Notice("error", f"Not recorded: {reason}."), 422)
