"""A debtor in a state split across zones keeps the hours of every zone their address may be in."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, Debtor
from backend.services.compliance.facts import _debtor_zones
from backend.services.geo import address_zones, derive_timezone
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage, Purpose
from bot.ports import OutboxDecision
from tests.channels.helpers import seed_debtor

PENSACOLA_PHONE = "+18505550123"  # area code 850: phonenumbers says only New_York
PADUCAH_PHONE = "+12705550123"  # area code 270: phonenumbers says only New_York
NY, CHICAGO, DENVER = "America/New_York", "America/Chicago", "America/Denver"
# 10:39Z on 2026-11-26 is 05:39 in New York and 04:39 in Pensacola/Paducah (CST, UTC-6).
EARLY = datetime(2026, 11, 26, 10, 39, tzinfo=UTC)
EIGHT_CENTRAL = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(("region", "postal_code", "phone"), [
    ("FL", "32501", PENSACOLA_PHONE),  # RC-60: Pensacola FL
    ("KY", "42001", PADUCAH_PHONE),  # RC-61: Paducah KY
])
async def test_a_reminder_to_a_central_time_address_in_an_eastern_state_waits_for_8_central(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
    region: str, postal_code: str, phone: str,
) -> None:
    # Imported without a timezone: the import stored the state's predominant zone.
    account_id = await _seed(wired, clock, region=region, postal_code=postal_code, phone=phone,
                             timezone=derive_timezone(region, "US", phone) or "")
    clock.set(EARLY)
    first = await _remind(wired, account_id, phone)
    assert (first.status, first.reason) == ("deferred", "quiet_hours")
    assert first.not_before == EIGHT_CENTRAL

    clock.set(datetime(2026, 11, 26, 13, 0, 30, tzinfo=UTC))  # 08:00 NY, but 07:00 Central
    again = await _remind(wired, account_id, phone)
    assert (again.status, again.not_before) == ("deferred", EIGHT_CENTRAL)
    assert set(await _audited_zones(wired, again.message_id)) == {NY, CHICAGO}

    clock.set(EIGHT_CENTRAL)
    assert (await _remind(wired, account_id, phone)).allowed


async def test_a_timezone_given_for_the_debtor_is_not_widened_by_the_address(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
) -> None:
    # Given explicitly (not the state's default): a Central address in FL says Central itself.
    account_id = await _seed(wired, clock, region="FL", postal_code="33101",
                             phone=PENSACOLA_PHONE, timezone=CHICAGO)
    clock.set(EIGHT_CENTRAL)
    decision = await _remind(wired, account_id, PENSACOLA_PHONE)
    assert decision.allowed
    assert set(await _audited_zones(wired, decision.message_id)) == {CHICAGO, NY}  # + the phone


@pytest.mark.parametrize(("region", "postal_code", "zones"), [
    ("FL", "32501", (CHICAGO,)),  # Pensacola
    ("FL", "32501-1234", (CHICAGO,)),
    ("FL", "33101", (NY,)),  # Miami
    ("FL", "32401", (NY, CHICAGO)),  # 324xx straddles the line (Gulf County)
    ("FL", None, (NY, CHICAGO)),  # no ZIP: every zone of the state
    ("FL", "10001", (NY, CHICAGO)),  # a ZIP of another state says nothing about this one
    ("KY", "42001", (CHICAGO,)),  # Paducah
    ("KY", "40202", (NY,)),  # Louisville
    ("TN", "38103", (CHICAGO,)),  # Memphis
    ("TN", "37902", (NY,)),  # Knoxville
    ("TX", "88510", (DENVER,)),  # El Paso (885xx)
    ("TX", "79901", (CHICAGO, DENVER)),  # 799xx: El Paso and Central Texas
    ("TX", "77002", (CHICAGO,)),  # Houston
    ("IN", "46320", (CHICAGO,)),  # Hammond
    ("MI", None, ("America/Detroit", CHICAGO)),
    ("ND", None, (CHICAGO, DENVER)),
    ("SD", None, (CHICAGO, DENVER)),
    ("NE", None, (CHICAGO, DENVER)),
    ("KS", None, (CHICAGO, DENVER)),
    ("OR", None, ("America/Los_Angeles", DENVER)),
    ("ID", "83814", ("America/Los_Angeles",)),  # Coeur d'Alene
    ("AK", None, ("America/Anchorage", "America/Adak")),
    ("AZ", None, ("America/Phoenix", DENVER)),  # the Navajo Nation keeps daylight time
    ("NV", "89883", ("America/Los_Angeles", DENVER)),  # 898: Elko and West Wendover
    ("NY", "10001", (NY,)),
    ("ny", None, (NY,)),
])
def test_an_address_yields_its_zips_zone_else_every_zone_of_its_state(
    region: str, postal_code: str | None, zones: tuple[str, ...],
) -> None:
    assert address_zones(region, "US", postal_code) == zones


def test_an_address_outside_the_us_or_without_a_state_yields_no_zone() -> None:
    assert address_zones("FL", "CA", "32501") == ()
    assert address_zones(None, "US", "32501") == ()


def test_the_stored_zone_is_the_zips_when_it_has_one_else_the_states_predominant() -> None:
    assert derive_timezone("FL", "US", PENSACOLA_PHONE, "32501") == CHICAGO
    assert derive_timezone("FL", "US", PENSACOLA_PHONE, "32401") == NY  # straddles: state's
    assert derive_timezone("FL", "US", PENSACOLA_PHONE) == NY


@pytest.mark.parametrize(("timezone", "region", "postal_code", "zones"), [
    (NY, "FL", "32501", (NY, CHICAGO)),  # the state's default: may be a guess, so widened
    ("", "KY", "42001", (CHICAGO,)),  # unknown: the address is the signal
    (CHICAGO, "FL", "33101", (CHICAGO,)),  # given explicitly: kept as given
    (DENVER, "TX", None, (DENVER,)),
    ("Europe/London", "", None, ("Europe/London",)),
])
def test_the_gate_widens_only_a_zone_that_may_come_from_the_state(
    timezone: str, region: str, postal_code: str | None, zones: tuple[str, ...],
) -> None:
    debtor = Debtor(full_name="Ana", timezone=timezone, region=region, postal_code=postal_code,
                    country="GB" if timezone == "Europe/London" else "US")
    assert _debtor_zones(debtor) == zones


async def _seed(container: Container, clock: SettableClock, *, region: str, postal_code: str,
                phone: str, timezone: str) -> int:
    _, account_id = await seed_debtor(container, now=clock.now(), phone=phone, region=region,
                                      timezone=timezone)
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        debtor = await session.get(Debtor, account.debtor_id)
        assert debtor is not None
        debtor.postal_code = postal_code
    return account_id


async def _remind(container: Container, account_id: int, phone: str) -> OutboxDecision:
    outbound = OutboundMessage(key=ConversationKey("sms", phone), text="Hello, Reply STOP to stop",
                               purpose=Purpose.REMINDER, account_id=account_id)
    async with container.sessions.begin() as session:
        return await container.services["outbox"].submit(session, outbound)


async def _audited_zones(container: Container, message_id: int | None) -> list[str]:
    async with container.sessions() as session:
        event = (await session.scalars(
            select(AuditEvent).where(AuditEvent.subject_type == "message",
                                     AuditEvent.subject_id == str(message_id),
                                     AuditEvent.action.like("compliance.%"))
            .order_by(AuditEvent.id.desc()).limit(1))).one()
    return list(event.data["zones"])
