"""A payment link given for a due date opens until that day is over in the debtor's calendar,
plus the grace days; a link for paying now lasts the usual 7 days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from backend.services.payments.links import PaymentLinks
from bot.clock import SettableClock

ISSUED = datetime(2027, 3, 25, 15, 15, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
SETTLEMENT_DUE = date(2027, 4, 8)  # 14 days after the link is issued


def _links() -> tuple[PaymentLinks, SettableClock]:
    clock = SettableClock(ISSUED)
    return PaymentLinks("w3-secret", "https://pay.example", clock), clock


def _opens(links: PaymentLinks, clock: SettableClock, url: str, at: datetime) -> bool:
    clock.set(at)
    return links.read(url.split("/pay/")[1]) is not None


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


def test_a_settlement_link_opens_on_its_due_day_and_through_the_grace_days() -> None:
    links, clock = _links()
    url = links.url_for(
        7, Decimal("900.00"), due=SETTLEMENT_DUE, timezone="America/New_York", grace_days=3
    )
    assert _opens(links, clock, url, ISSUED + timedelta(days=8))  # past the old 7 days
    assert _opens(links, clock, url, _local(SETTLEMENT_DUE, 14))
    assert _opens(links, clock, url, _local(SETTLEMENT_DUE + timedelta(days=1), 9))
    assert _opens(links, clock, url, _local(SETTLEMENT_DUE + timedelta(days=3), 23, 59))
    assert not _opens(links, clock, url, _local(SETTLEMENT_DUE + timedelta(days=4), 0, 1))


def test_the_due_day_ends_in_the_debtors_timezone_not_in_utc() -> None:
    links, clock = _links()
    url = links.url_for(
        7, Decimal("300.00"), due=SETTLEMENT_DUE, timezone="America/Los_Angeles", grace_days=0
    )
    # 23:30 in Los Angeles on the due day is already the next day in UTC.
    late = datetime(2027, 4, 8, 23, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert late.astimezone(UTC).date() > SETTLEMENT_DUE
    assert _opens(links, clock, url, late)
    assert not _opens(links, clock, url, late + timedelta(minutes=31))


def test_without_a_grace_a_link_still_opens_a_few_days_after_its_due_day() -> None:
    links, clock = _links()
    url = links.url_for(7, Decimal("100.00"), due=SETTLEMENT_DUE, timezone="America/New_York")
    assert _opens(links, clock, url, _local(SETTLEMENT_DUE + timedelta(days=2), 12))


def test_a_link_due_soon_and_a_link_to_pay_now_last_the_usual_seven_days() -> None:
    links, clock = _links()
    soon = links.url_for(
        7, Decimal("50.00"), due=ISSUED.date(), timezone="America/New_York", grace_days=0
    )
    now = links.url_for(7, Decimal("50.00"))
    for url in (soon, now):
        assert _opens(links, clock, url, ISSUED + timedelta(days=7) - timedelta(minutes=1))
        assert not _opens(links, clock, url, ISSUED + timedelta(days=7, minutes=1))


def test_a_due_date_link_is_still_signed_for_one_account_and_amount() -> None:
    links, clock = _links()
    url = links.url_for(7, Decimal("900.00"), due=SETTLEMENT_DUE, timezone="America/New_York")
    link = links.read(url.split("/pay/")[1])
    assert link is not None and (link.account_id, link.amount) == (7, Decimal("900.00"))
    forged = PaymentLinks("another-secret", "https://pay.example", clock)
    assert forged.read(url.split("/pay/")[1]) is None
