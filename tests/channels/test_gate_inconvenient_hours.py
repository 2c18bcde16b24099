"""The gate keeps every outbound out of the hours the debtor called inconvenient
(compliance.md items 4-5, 12 CFR 1006.6(b)(1)); writing inside them earns one reply."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from backend.services.compliance.facts import ContactState, GateFacts, SentRecord
from backend.services.compliance.gate import decide
from backend.services.compliance.rules import load_rules
from bot.messages import ConversationKey, OutboundMessage, Purpose

RULES = load_rules()
TEN_NY = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 10:00 in New York
NOON_NY = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
KEY = ConversationKey("sms", "+12125551234")
FACTS = GateFacts(zones=("America/New_York",), regions=("NY",), conversation_id=7,
                  contact=ContactState(opted_out_at=None, consent=True, wrong_party=False),
                  contact_not_before=time(12))


def _reminder() -> OutboundMessage:
    return OutboundMessage(key=KEY, text="Hello", purpose=Purpose.REMINDER, account_id=1,
                           sender="reminder")


def _reply(purpose: Purpose = Purpose.REPLY) -> OutboundMessage:
    return OutboundMessage(key=KEY, text="Hi", purpose=purpose, account_id=1,
                           conversation_id=7, in_reply_to=41, recipient_verified=True)


def test_a_reminder_before_the_designated_start_waits_for_it() -> None:
    decision = decide(_reminder(), FACTS, RULES, TEN_NY)
    assert decision.status == "deferred" and decision.reason == "quiet_hours"
    assert decision.not_before == NOON_NY
    assert decision.details["designated_hours"] == {
        "not_before": "12:00", "not_after": None, "allowed": "12:00-21:00"}


def test_a_reminder_inside_the_designated_hours_goes() -> None:
    assert decide(_reminder(), FACTS, RULES, NOON_NY + timedelta(minutes=5)).allowed


def test_an_evening_designation_closes_the_window_early() -> None:
    facts = replace(FACTS, contact_not_before=None, contact_not_after=time(18))
    at = datetime(2026, 11, 26, 0, 30, tzinfo=UTC)  # 19:30 in New York
    decision = decide(_reminder(), facts, RULES, at)
    assert decision.status == "deferred"
    assert decision.not_before == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)  # 08:00 next day


def test_a_debtor_writing_inside_their_hours_gets_one_reply_and_the_next_waits() -> None:
    facts = replace(FACTS, latest_inbound_id=41, latest_inbound_at=TEN_NY - timedelta(minutes=1))
    first = decide(_reply(), facts, RULES, TEN_NY)
    assert first.allowed and first.details["reply_exception"] is True
    after = replace(facts, recent=(SentRecord(TEN_NY, "reply", 7, "sms", True),))
    for purpose in (Purpose.REPLY, Purpose.AGENT):
        second = decide(_reply(purpose), after, RULES, TEN_NY + timedelta(minutes=1))
        assert second.status == "deferred" and second.not_before == NOON_NY


def test_cleared_hours_are_the_default_window_again() -> None:
    cleared = replace(FACTS, contact_not_before=None)
    decision = decide(_reminder(), cleared, RULES, TEN_NY)
    assert decision.allowed and "designated_hours" not in decision.details
