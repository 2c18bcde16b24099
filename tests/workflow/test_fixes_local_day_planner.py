"""The planner and the visible schedule count a step's day in the debtor's calendar, not UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from backend.container import Container
from backend.workflow.planner import day_starts, plan_day
from backend.workflow.schedule import planned_contacts
from backend.workflow.store import active_versions
from backend.workflow.strategy import StrategyDefinition, parse_strategy
from bot.clock import SettableClock
from tests.workflow import seed

LA, TOKYO = ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Tokyo")
DUE = date(2026, 12, 1)
WINDOW = {"start": "10:00", "end": "17:00"}
# 16:30 on Nov 30 in Los Angeles; already Dec 1 in UTC.
EVENING_LA = datetime(2026, 11, 30, 16, 30, tzinfo=LA)
# 08:30 on Dec 1 in Tokyo; still Nov 30 in UTC.
MORNING_TOKYO = datetime(2026, 12, 1, 8, 30, tzinfo=TOKYO)


def _around_due(catch_up_days: int = 0) -> StrategyDefinition:
    """A reminder the day before the due date and one on the due date."""
    steps = [{"id": "d-1", "offset_days": -1, "channels": ["sms"], "window": WINDOW},
             {"id": "d0", "offset_days": 0, "channels": ["sms"], "window": WINDOW}]
    return parse_strategy({"name": "around-due", "segments": [{"name": "all", "steps": steps}],
                           "lifecycle": {"catch_up_days": catch_up_days}}, queues=())


async def _plan(container: Container, clock: SettableClock, at: datetime, zone: str
                ) -> dict[str, datetime]:
    """Plan at `at` for one account due on DUE in `zone`; each planned step's due time."""
    clock.set(at.astimezone(UTC))
    now = clock.now()
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        acct = await seed.account(session, folio, now, DUE, zone=zone)
        await seed.activate(session, now, _around_due())
        await plan_day(session, await active_versions(session), now)
        return {c.step: c.due_at for c in await seed.contacts(session, acct.id)}


async def test_west_of_utc_the_day_before_reminder_goes_the_day_before(
    wf_container: Container, clock: SettableClock,
) -> None:
    planned = await _plan(wf_container, clock, EVENING_LA, "America/Los_Angeles")
    # Nov 30 is still the day before the due date in Los Angeles: the reminder is today's
    # (its window opened this morning), and the due-date step waits for Dec 1.
    assert set(planned) == {"d-1"}
    assert planned["d-1"].astimezone(LA) == datetime(2026, 11, 30, 10, 0, tzinfo=LA)


async def test_east_of_utc_the_due_date_step_is_planned_on_the_due_date(
    wf_container: Container, clock: SettableClock,
) -> None:
    planned = await _plan(wf_container, clock, MORNING_TOKYO, "Asia/Tokyo")
    # Dec 1 has begun in Tokyo: the day-before reminder's day has passed (no catch-up here),
    # and the due-date step is planned for this morning's window.
    assert set(planned) == {"d0"}
    assert planned["d0"].astimezone(TOKYO) == datetime(2026, 12, 1, 10, 0, tzinfo=TOKYO)


async def test_debtors_on_both_sides_of_utc_are_planned_in_one_pass(
    wf_container: Container, clock: SettableClock,
) -> None:
    clock.set(datetime(2026, 12, 1, 0, 30, tzinfo=UTC))
    now = clock.now()
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        west = await seed.account(session, folio, now, DUE, zone="America/Los_Angeles")
        east = await seed.account(session, folio, now, DUE, zone="Asia/Tokyo")
        await seed.activate(session, now, _around_due())
        report = await plan_day(session, await active_versions(session), now)
        steps = {a.id: [c.step for c in await seed.contacts(session, a.id)]
                 for a in (west, east)}
    assert steps == {west.id: ["d-1"], east.id: ["d0"]}  # Nov 30 in LA; Dec 1 in Tokyo
    assert report.total == 2


async def test_a_debtor_without_a_zone_is_planned_on_the_default_zones_date(
    wf_container: Container, clock: SettableClock,
) -> None:
    # 00:30 UTC on Dec 1 is 19:30 on Nov 30 in New York, the default zone.
    planned = await _plan(wf_container, clock, datetime(2026, 12, 1, 0, 30, tzinfo=UTC), "")
    assert set(planned) == {"d-1"}


async def test_the_visible_schedule_projects_from_the_debtors_date(
    wf_container: Container, clock: SettableClock,
) -> None:
    clock.set(EVENING_LA.astimezone(UTC))
    now = clock.now()
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        acct = await seed.account(session, folio, now, DUE, zone="America/Los_Angeles")
        await seed.activate(session, now, _around_due())
    async with wf_container.sessions() as session:
        views = await planned_contacts(session, acct.id, now)
    # Still Nov 30 in Los Angeles: the day-before step is yet to come.
    assert [v.step for v in views] == ["d-1", "d0"]


def test_the_moments_a_debtors_day_begins_within_a_utc_day() -> None:
    start = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    moments = day_starts(["America/Los_Angeles", "Asia/Tokyo"], start,
                         start + timedelta(days=1))
    # UTC midnight, then midnight in New York (the default zone), Los Angeles and Tokyo.
    assert [m.hour for m in moments] == [0, 5, 8, 15]
