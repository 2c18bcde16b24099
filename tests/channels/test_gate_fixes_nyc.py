"""New York City's cap (compliance.md B item 33): 3 a week on every channel, from the address."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from backend.container import Container
from backend.db.models import Debtor
from backend.services.compliance.facts import ContactState, GateFacts, SentRecord
from backend.services.compliance.gate import decide
from backend.services.compliance.rules import load_rules
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage, Purpose
from bot.ports import OutboxDecision
from tests.channels.helpers import seed_debtor

RULES = load_rules()
NOON_NY = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
PHONE = "+12125551234"
ADDRESSES = {"sms": PHONE, "whatsapp": PHONE, "telegram": "777001"}


@pytest.mark.parametrize(("postal_code", "region", "country", "nyc"), [
    ("10001", "NY", "US", True),        # Manhattan
    ("10282", "NY", "US", True),        # Battery Park City
    ("10301", "NY", "US", True),        # Staten Island
    ("10314", "NY", "US", True),        # Staten Island
    ("10463", "NY", "US", True),        # the Bronx (and Marble Hill)
    ("11201", "NY", "US", True),        # Brooklyn
    ("11101", "NY", "US", True),        # Long Island City, Queens
    ("11354", "NY", "US", True),        # Flushing, Queens
    ("11434", "NY", "US", True),        # Jamaica, Queens
    ("11691", "NY", "US", True),        # Far Rockaway, Queens
    ("11004", "NY", "US", True),        # Glen Oaks, Queens
    ("11005", "NY", "US", True),        # Floral Park, Queens
    ("10001-1234", "NY", "US", True),   # ZIP+4
    ("10001", "", "", True),            # no state on file: the ZIP alone
    ("11001", "NY", "US", False),       # Floral Park village, Nassau
    ("11501", "NY", "US", False),       # Mineola, Nassau
    ("10701", "NY", "US", False),       # Yonkers, Westchester
    ("14201", "NY", "US", False),       # Buffalo
    ("12207", "NY", "US", False),       # Albany
    ("07302", "NJ", "US", False),       # Jersey City
    ("10115", "", "DE", False),         # Berlin: five digits, not a US ZIP
    ("1000", "NY", "US", False),
    (None, "NY", "US", False),
])
def test_the_five_boroughs_are_matched_by_zip(
    postal_code: str | None, region: str, country: str, nyc: bool,
) -> None:
    assert (RULES.places_of(postal_code, region, country) == ("NYC",)) is nyc


@pytest.mark.parametrize(("city", "region", "nyc"), [
    ("New York", "NY", True), ("manhattan", "ny", True), ("Brooklyn", "NY", True),
    ("Bronx", "NY", True), ("Queens", "NY", True), ("Staten  Island", "NY", True),
    ("Brooklyn", "MI", False), ("New York", "", False), ("Buffalo", "NY", False),
])
def test_the_five_boroughs_are_matched_by_city_name_with_the_state(
    city: str, region: str, nyc: bool,
) -> None:
    assert (RULES.places_of(None, region, "US", city) == ("NYC",)) is nyc


def _facts(regions: tuple[str, ...], channels: tuple[str, ...]) -> GateFacts:
    sent = tuple(SentRecord(NOON_NY - timedelta(days=d), "reminder", 1, channel)
                 for d, channel in zip((5, 3, 1), channels, strict=True))
    return GateFacts(zones=("America/New_York",), regions=regions, recent=sent,
                     contact=ContactState(opted_out_at=None, consent=True, wrong_party=False),
                     written_consent_at=NOON_NY - timedelta(days=60))


def _out(channel: str) -> OutboundMessage:
    return OutboundMessage(key=ConversationKey(channel, ADDRESSES[channel]), text="Hi",
                           purpose=Purpose.REMINDER, account_id=1, template="parley_reminder")


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "telegram"])
def test_the_fourth_contact_in_a_week_waits_in_new_york_city(channel: str) -> None:
    facts = _facts(("NY", "NYC"), ("sms", "whatsapp", "telegram"))
    decision = decide(_out(channel), facts, RULES, NOON_NY)
    assert (decision.status, decision.reason) == ("deferred", "frequency_cap")
    assert (decision.details["cap"], decision.details["scope"],
            decision.details["cap_source"], decision.details["counted"]) == (
        3, "all_channels", "NYC", 3)
    assert decision.not_before == NOON_NY + timedelta(days=2)  # the oldest leaves the week


def test_elsewhere_in_new_york_the_policy_cap_stays_per_channel() -> None:
    facts = _facts(("NY",), ("sms", "sms", "sms"))
    assert decide(_out("whatsapp"), facts, RULES, NOON_NY).allowed
    assert decide(_out("sms"), facts, RULES, NOON_NY).reason == "frequency_cap"


def test_the_strictest_matched_cap_wins() -> None:
    full = _facts(("NY", "NYC"), ("sms", "whatsapp", "telegram"))
    two = replace(full, recent=full.recent[1:])
    assert decide(_out("sms"), two, RULES, NOON_NY).allowed  # 2 of NYC's 3
    with_ma = replace(two, regions=("NY", "NYC", "MA"))  # a Massachusetts phone too
    decision = decide(_out("sms"), with_ma, RULES, NOON_NY)
    assert (decision.reason, decision.details["cap_source"]) == ("frequency_cap", "MA")


async def _submit(container: Container, account_id: int, channel: str) -> OutboxDecision:
    async with container.sessions.begin() as session:
        outbound = replace(_out(channel), account_id=account_id)
        return await container.services["outbox"].submit(session, outbound)


async def _account(container: Container, clock: SettableClock, postal_code: str,
                   written_consent: bool = True) -> int:
    debtor_id, account_id = await seed_debtor(container, now=clock.now(),
                                              channels=("sms", "whatsapp", "telegram"),
                                              written_consent=written_consent)
    async with container.sessions.begin() as session:
        debtor = await session.get(Debtor, debtor_id)
        assert debtor is not None
        debtor.postal_code = postal_code
    return account_id


@pytest.mark.parametrize("fourth", ["sms", "whatsapp", "telegram"])
async def test_a_fourth_reminder_to_a_brooklyn_account_waits_on_any_channel(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock, fourth: str,
) -> None:
    account_id = await _account(wired, clock, "11201")
    for channel in ("sms", "whatsapp", "telegram"):
        assert (await _submit(wired, account_id, channel)).allowed
        clock.advance(timedelta(days=1))
    held = await _submit(wired, account_id, fourth)
    assert (held.status, held.reason) == ("deferred", "frequency_cap")
    assert held.not_before == clock.now() + timedelta(days=4)


async def test_a_buffalo_account_gets_the_per_channel_cap_only(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
) -> None:
    account_id = await _account(wired, clock, "14201")
    for channel in ("sms", "whatsapp", "telegram", "sms", "whatsapp"):
        assert (await _submit(wired, account_id, channel)).allowed, channel
        clock.advance(timedelta(hours=1))


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "telegram"])
async def test_a_reminder_to_a_brooklyn_debtor_without_written_consent_is_blocked(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock, channel: str,
) -> None:
    account_id = await _account(wired, clock, "11201", written_consent=False)
    held = await _submit(wired, account_id, channel)
    assert (held.status, held.reason) == ("blocked", "no_written_consent")
    clock.advance(timedelta(minutes=1))
    buffalo = await _account(wired, clock, "14201", written_consent=False)
    assert (await _submit(wired, buffalo, channel)).allowed
