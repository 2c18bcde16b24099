"""An agent's promise or plan is judged on the debtor's calendar day, as the bot's offers are."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Conversation, Debtor, PaymentPlan, Promise
from backend.db.models.enums import Role
from backend.services.payments.links import PaymentLinks
from backend.services.policy.loader import load_default
from backend.services.policy.store import PolicyStore
from backend.services.turns import debtor_today
from bot.clock import SettableClock
from tests.console.conftest import NOW, LoggedIn, Seeder

# 03:14 UTC on the 29th is 18:14 on the 28th in Alaska and 12:14 on the 29th in Tokyo.
LATE_UTC = datetime(2026, 11, 29, 3, 14, tzinfo=UTC)
# 23:30 UTC on the 28th is already 08:30 on the 29th in Tokyo, still the 28th in Alaska.
BEFORE_UTC_MIDNIGHT = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
ALASKA, TOKYO = "America/Anchorage", "Asia/Tokyo"


@pytest.fixture
def agreeable(console: Container) -> Container:
    """The console with the policy store and payment links installed."""
    console.services["policies"] = PolicyStore(load_default(console.settings.policy_dir))
    console.services["payment_links"] = PaymentLinks(
        console.settings.secret_key, "http://127.0.0.1:8000", console.clock)
    return console


async def _owned_in(container: Container, seed: Seeder, agent_id: int, zone: str) -> int:
    cid = await seed("can I pay later?", intent="promise_to_pay", confidence=0.8)
    async with container.sessions.begin() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None and conversation.debtor_id is not None
        debtor = await session.get(Debtor, conversation.debtor_id)
        assert debtor is not None
        debtor.timezone = zone
        await container.services["handoff"].open_handoff(session, cid, "requested_agent", now=NOW)
        await container.services["handoff"].claim(session, cid, agent_id=agent_id, now=NOW)
    return cid


def _at(container: Container, when: datetime) -> None:
    clock = container.clock
    assert isinstance(clock, SettableClock)
    clock.set(when)


async def _promise(client, token: str, cid: int, due: str):  # type: ignore[no-untyped-def]
    return await client.post(f"/console/conversations/{cid}/promise",
                             data={"csrf_token": token, "amount": "25.00", "due": due})


async def _promise_days(container: Container) -> list[date]:
    async with container.sessions() as session:
        return sorted((await session.scalars(select(Promise.due_date))).all())


@pytest.mark.parametrize(("when", "zone", "due"), [
    (LATE_UTC, ALASKA, "2026-11-28"),  # today in Alaska, yesterday in UTC
    (LATE_UTC, ALASKA, "2026-12-28"),  # the 30th day in Alaska
    (BEFORE_UTC_MIDNIGHT, TOKYO, "2026-12-29"),  # the 30th day in Tokyo, the 31st in UTC
])
async def test_a_promise_within_the_debtors_own_days_is_recorded(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn, when: datetime, zone: str,
    due: str,
) -> None:
    _at(agreeable, when)  # before logging in: the session is as old as the clock says
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned_in(agreeable, seed, agent_id, zone)
    response = await _promise(client, token, cid, due)
    assert response.status_code == 303, response.text[-600:]
    assert "notice=promise_recorded" in response.headers["location"]
    assert await _promise_days(agreeable) == [date.fromisoformat(due)]


@pytest.mark.parametrize(("when", "zone", "due", "reason"), [
    (BEFORE_UTC_MIDNIGHT, TOKYO, "2026-11-28", "the first day is in the past"),
    (LATE_UTC, ALASKA, "2026-12-29", "promise too far out"),  # the 31st day in Alaska
])
async def test_a_promise_outside_the_debtors_own_days_is_refused(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn, when: datetime, zone: str,
    due: str, reason: str,
) -> None:
    _at(agreeable, when)  # before logging in: the session is as old as the clock says
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned_in(agreeable, seed, agent_id, zone)
    response = await _promise(client, token, cid, due)
    assert response.status_code == 422 and f"Not recorded: {reason}." in response.text
    assert await _promise_days(agreeable) == []


@pytest.mark.parametrize(("when", "zone", "first", "allowed"), [
    (LATE_UTC, ALASKA, "2026-11-28", True),
    (BEFORE_UTC_MIDNIGHT, TOKYO, "2026-11-28", False),
    (BEFORE_UTC_MIDNIGHT, TOKYO, "2026-11-29", True),
])
async def test_a_plans_first_day_is_judged_on_the_debtors_day(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn, when: datetime, zone: str,
    first: str, allowed: bool,
) -> None:
    _at(agreeable, when)  # before logging in: the session is as old as the clock says
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned_in(agreeable, seed, agent_id, zone)
    response = await client.post(f"/console/conversations/{cid}/plan", data={
        "csrf_token": token, "count": "3", "frequency": "monthly", "first": first})
    assert response.status_code == (303 if allowed else 422), response.text[-600:]
    async with agreeable.sessions() as session:
        plans = (await session.scalars(select(PaymentPlan))).all()
    assert len(plans) == (1 if allowed else 0)


@pytest.mark.parametrize(("when", "zone", "today", "promise_until", "plan_until"), [
    (LATE_UTC, ALASKA, "2026-11-28", "2026-12-28", "2026-12-12"),
    (BEFORE_UTC_MIDNIGHT, TOKYO, "2026-11-29", "2026-12-29", "2026-12-13"),
])
async def test_the_forms_dates_run_from_the_debtors_today_to_the_policys_horizon(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn, when: datetime, zone: str,
    today: str, promise_until: str, plan_until: str,
) -> None:
    _at(agreeable, when)
    client, _, agent_id = await logged_in(Role.AGENT)
    cid = await _owned_in(agreeable, seed, agent_id, zone)
    page = (await client.get(f"/console/conversations/{cid}")).text
    due = re.search(r'<input type="date" name="due"[^>]*>', page)
    first = re.search(r'<input type="date" name="first"[^>]*>', page)
    assert due is not None and first is not None
    assert f'min="{today}"' in due.group(0) and f'max="{promise_until}"' in due.group(0)
    assert f'min="{today}"' in first.group(0) and f'max="{plan_until}"' in first.group(0)


@pytest.mark.parametrize(("zone", "expected"), [
    (ALASKA, date(2026, 11, 28)),
    (TOKYO, date(2026, 11, 29)),
    ("", date(2026, 11, 28)),  # unknown: the default zone, New York (22:14 on the 28th)
    ("Mars/Olympus_Mons", date(2026, 11, 28)),  # not a zone: the default too, no error
])
def test_the_debtors_today_falls_back_to_the_default_zone(zone: str, expected: date) -> None:
    assert debtor_today(LATE_UTC, zone) == expected
