"""NYC's written consent (compliance.md B item 33): the gate rule, the rules file, the import."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Debtor
from backend.services.compliance.facts import ContactState, GateFacts
from backend.services.compliance.gate import decide
from backend.services.compliance.rules import load_rules
from backend.services.imports.columns import COLUMN_NAMES, EXAMPLE_ROWS
from backend.services.imports.service import ImportReport, import_accounts
from bot.messages import ConversationKey, OutboundMessage, Purpose

RULES = load_rules()
NOON_NY = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
ADDRESSES = {"sms": "+12125551234", "whatsapp": "+12125551234", "telegram": "777001",
             "web": "portal-1"}
CONSENT = "2026-06-01T10:00:00-04:00"  # before the test clock (2026-11-25 15:00 UTC)


def _facts(regions: tuple[str, ...], consent: datetime | None = None,
           inbound_at: datetime | None = None) -> GateFacts:
    return GateFacts(
        zones=("America/New_York",), regions=regions, written_consent_at=consent,
        contact=ContactState(opted_out_at=None, consent=True, wrong_party=False),
        latest_inbound_id=7 if inbound_at else None, latest_inbound_at=inbound_at)


def _out(channel: str, purpose: Purpose = Purpose.REMINDER) -> OutboundMessage:
    return OutboundMessage(key=ConversationKey(channel, ADDRESSES[channel]), text="Hi",
                           purpose=purpose, account_id=1, template="parley_reminder")


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "telegram"])
def test_a_reminder_to_a_new_york_city_address_needs_written_consent(channel: str) -> None:
    decision = decide(_out(channel), _facts(("NY", "NYC")), RULES, NOON_NY)
    assert (decision.status, decision.reason) == ("blocked", "no_written_consent")
    assert decision.rule == "compliance.md B item 33 (NYC 6 RCNY)"
    consented = _facts(("NY", "NYC"), consent=NOON_NY - timedelta(days=30))
    assert decide(_out(channel), consented, RULES, NOON_NY).allowed


def test_outside_new_york_city_no_written_consent_is_needed() -> None:
    assert decide(_out("sms"), _facts(("NY",)), RULES, NOON_NY).allowed
    assert decide(_out("sms"), _facts(("MA",)), RULES, NOON_NY).allowed


def test_a_channel_the_rule_does_not_name_is_not_held() -> None:
    only_sms = replace(RULES, written_consent_channels=frozenset({"sms"}))
    assert decide(_out("whatsapp"), _facts(("NY", "NYC")), only_sms, NOON_NY).allowed
    assert not decide(_out("sms"), _facts(("NY", "NYC")), only_sms, NOON_NY).allowed


def test_answering_a_debtor_who_just_wrote_needs_no_written_consent() -> None:
    facts = _facts(("NY", "NYC"), inbound_at=NOON_NY - timedelta(minutes=5))
    assert decide(_out("sms", Purpose.REPLY), facts, RULES, NOON_NY).allowed
    assert decide(_out("sms", Purpose.AGENT), facts, RULES, NOON_NY).allowed
    # A reminder is ours however recently they wrote.
    assert decide(_out("sms"), facts, RULES, NOON_NY).reason == "no_written_consent"


def test_an_agent_starting_contact_needs_written_consent() -> None:
    stale = _facts(("NY", "NYC"), inbound_at=NOON_NY - timedelta(days=3))
    decision = decide(_out("sms", Purpose.AGENT), stale, RULES, NOON_NY)
    assert (decision.status, decision.reason) == ("blocked", "no_written_consent")
    cold = _facts(("NY", "NYC"))
    assert decide(_out("sms", Purpose.AGENT), cold, RULES, NOON_NY).reason == (
        "no_written_consent")


def test_the_rules_file_must_define_the_places_it_names(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text("places: {}\nwritten_consent: {places: [NYC], channels: [sms]}\n")
    with pytest.raises(ValueError, match=r"written_consent\.places: names places not defined.*NYC"):
        load_rules(rules)


def test_the_shipped_rules_require_it_in_new_york_city_on_text_and_chat() -> None:
    assert RULES.written_consent_places == {"NYC"}
    assert RULES.written_consent_channels == {"sms", "whatsapp", "telegram"}


# The import: the `written_consent_at` column.

def _csv(rows: list[dict[str, str]]) -> list[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMN_NAMES), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().splitlines(keepends=True)


def _row(**overrides: str) -> dict[str, str]:
    return {**EXAMPLE_ROWS[1], **overrides}  # James Carter, ZIP 10001 (Manhattan)


async def _import(container: Container, rows: list[dict[str, str]]) -> ImportReport:
    report, _ = await import_accounts(container.sessions, _csv(rows), now=container.clock.now(),
                                      actor="ops")
    return report


async def _consents(container: Container) -> list[datetime | None]:
    async with container.sessions() as session:
        return list((await session.scalars(
            select(Debtor.written_consent_at).order_by(Debtor.id))).all())


async def test_the_import_stores_written_consent_and_a_blank_cell_keeps_it(
    container: Container,
) -> None:
    assert "written_consent_at" in COLUMN_NAMES
    report = await _import(container, [_row(written_consent_at=CONSENT),
                                       _row(external_ref="B2", debtor_name="Bo Diaz")])
    assert (report.created, report.errors) == (2, [])
    assert await _consents(container) == [datetime(2026, 6, 1, 14, 0, tzinfo=UTC), None]
    # A re-import that leaves the cell empty never withdraws it; one that gives it, adds it.
    again = await _import(container, [_row(written_consent_at=""),
                                      _row(external_ref="B2", debtor_name="Bo Diaz",
                                           written_consent_at="2026-11-01T09:00:00Z")])
    assert (again.updated, again.errors) == (2, [])
    assert await _consents(container) == [datetime(2026, 6, 1, 14, 0, tzinfo=UTC),
                                          datetime(2026, 11, 1, 9, 0, tzinfo=UTC)]


@pytest.mark.parametrize(("value", "reason"), [
    ("2026-06-01", "is not"),               # no time, no offset: which day's evening?
    ("yes", "is not"),
    ("2027-01-01T00:00:00Z", "is in the future"),
])
async def test_a_bad_written_consent_is_a_row_error_and_nothing_is_written(
    container: Container, value: str, reason: str,
) -> None:
    report = await _import(container, [_row(external_ref="OK1"),
                                       _row(external_ref="BAD", written_consent_at=value)])
    assert [(e.row, e.column) for e in report.errors] == [(3, "written_consent_at")]
    assert reason in report.errors[0].reason
    assert not report.written
    assert await _consents(container) == []
