"""One campaign message a debtor-local day, counted on the day a message went, not was stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from backend.container import Container
from backend.db.models import ContactPoint, Conversation, Message, PlannedContact
from backend.workflow.context import WorkflowContext
from backend.workflow.sender import send_contact
from backend.workflow.store import LoadedVersion
from backend.workflow.strategy import parse_strategy
from bot.clock import SettableClock
from tests.fakes.server import FakeServer
from tests.workflow import seed

NY, LA = ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles")
DUE = date(2026, 10, 25)
WINDOW = {"start": "10:00", "end": "17:00"}
DAILY = parse_strategy({"name": "daily", "segments": [{"name": "all", "steps": [
    {"id": f"d{n}", "offset_days": n, "channels": ["sms"], "window": WINDOW}
    for n in (30, 31)]}]}, queues=())


@dataclass(frozen=True)
class Setup:
    """An account under DAILY, its SMS conversation, and today's step (d31) due now."""

    account_id: int
    version: LoadedVersion
    conversation_id: int
    contact_id: int


async def _setup(container: Container, now: datetime, zone: str) -> Setup:
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        acct = await seed.account(session, folio, now, DUE, zone=zone)
        version = await seed.activate(session, now, DAILY)
        phone = await session.scalar(select(ContactPoint.address).where(
            ContactPoint.debtor_id == acct.debtor_id))
        conv = Conversation(channel="sms", address=phone, debtor_id=acct.debtor_id,
                            account_id=acct.id, ownership="bot", started_at=now - timedelta(days=3),
                            last_message_at=now - timedelta(days=3))
        session.add(conv)
        await session.flush()
        contact = _contact(acct.id, version, "d31", now, "planned")
        session.add(contact)
        await session.flush()
        return Setup(acct.id, version, conv.id, contact.id)


def _contact(account_id: int, version: LoadedVersion, step: str, due_at: datetime,
             status: str, message_id: int | None = None) -> PlannedContact:
    return PlannedContact(
        key=f"a{account_id}:{step}:{DUE}", account_id=account_id,
        strategy_version_id=version.id, segment="all", step=step, anchor="due_date",
        anchor_date=DUE, due_at=due_at, status=status, reason="test", message_id=message_id,
        channel="sms" if message_id else None, created_at=due_at, updated_at=due_at)


async def _earlier_step(container: Container, setup: Setup, *, stored: datetime,
                        sent: datetime | None, status: str,
                        not_before: datetime | None = None) -> None:
    """Yesterday's step d30, whose message was stored at `stored` and let go at `sent`."""
    async with container.sessions.begin() as session:
        envelope = {"purpose": "reminder", "account_id": setup.account_id,
                    "sender": "workflow",
                    "not_before": not_before.isoformat() if not_before else None}
        message = Message(conversation_id=setup.conversation_id, direction="outbound",
                          channel="sms", sender="workflow", text="Reply STOP to stop",
                          intent="reminder", delivery_status=status, created_at=stored,
                          processed_at=sent, entities=[{"outbound": envelope}],
                          error_code="opted_out" if status == "blocked" else None)
        session.add(message)
        await session.flush()
        session.add(_contact(setup.account_id, setup.version, "d30", stored,
                             "sent" if sent else "queued", message.id))


async def _today(ctx: WorkflowContext, container: Container, setup: Setup
                 ) -> tuple[str, PlannedContact]:
    outcome = await send_contact(ctx, setup.contact_id)
    async with container.sessions() as session:
        contact = await session.get(PlannedContact, setup.contact_id)
        assert contact is not None
        return outcome, contact


def _at(zone: ZoneInfo, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=zone).astimezone(UTC)


async def test_a_message_stored_last_night_and_sent_this_morning_is_todays(
    ctx: WorkflowContext, wf_container: Container, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    clock.set(_at(NY, 25, 10, 30))
    setup = await _setup(wf_container, clock.now(), "America/New_York")
    await _earlier_step(wf_container, setup, stored=_at(NY, 24, 23, 30),
                        sent=_at(NY, 25, 8, 0), status="delivered")
    outcome, contact = await _today(ctx, wf_container, setup)
    assert (outcome, contact.due_at) == ("deferred", _at(NY, 26, 10, 0))
    assert contact.outcome == f"campaign_spacing until {_at(NY, 26, 10, 0).isoformat()}"
    assert twilio_api.calls("/Messages.json") == []


async def test_a_message_waiting_to_go_later_today_is_todays(
    ctx: WorkflowContext, wf_container: Container, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    clock.set(_at(NY, 25, 10, 30))
    setup = await _setup(wf_container, clock.now(), "America/New_York")
    # Stored yesterday afternoon, held by the outbox until 11:00 today.
    await _earlier_step(wf_container, setup, stored=_at(NY, 24, 16, 0), sent=None,
                        status="deferred", not_before=_at(NY, 25, 11, 0))
    outcome, contact = await _today(ctx, wf_container, setup)
    assert (outcome, contact.due_at) == ("deferred", _at(NY, 26, 10, 0))


async def test_a_message_blocked_when_it_fell_due_leaves_the_day_free(
    ctx: WorkflowContext, wf_container: Container, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    clock.set(_at(NY, 25, 10, 30))
    setup = await _setup(wf_container, clock.now(), "America/New_York")
    # Stored at 07:00 (quiet hours), blocked by the gate at its release: it never left.
    await _earlier_step(wf_container, setup, stored=_at(NY, 25, 7, 0), sent=None,
                        status="blocked")
    outcome, contact = await _today(ctx, wf_container, setup)
    assert (outcome, contact.status) == ("sent", "sent")
    assert len(twilio_api.calls("/Messages.json")) == 1


async def test_a_message_sent_just_after_utc_midnight_counts_on_the_debtors_evening(
    ctx: WorkflowContext, wf_container: Container, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    clock.set(_at(LA, 25, 10, 30))
    setup = await _setup(wf_container, clock.now(), "America/Los_Angeles")
    # 16:30 on Nov 24 in Los Angeles is 00:30 on Nov 25 in UTC: yesterday's, locally.
    yesterday = _at(LA, 24, 16, 30)
    await _earlier_step(wf_container, setup, stored=yesterday, sent=yesterday,
                        status="delivered")
    outcome, contact = await _today(ctx, wf_container, setup)
    assert (outcome, contact.status) == ("sent", "sent")


async def test_a_message_sent_after_local_midnight_counts_on_the_debtors_next_day(
    ctx: WorkflowContext, wf_container: Container, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    clock.set(_at(LA, 25, 10, 30))
    setup = await _setup(wf_container, clock.now(), "America/Los_Angeles")
    # Stored at 20:45 on Nov 24 in Los Angeles, held overnight, sent at 08:00 on Nov 25.
    await _earlier_step(wf_container, setup, stored=_at(LA, 24, 20, 45),
                        sent=_at(LA, 25, 8, 0), status="delivered")
    outcome, contact = await _today(ctx, wf_container, setup)
    assert (outcome, contact.due_at) == ("deferred", _at(LA, 26, 10, 0))
