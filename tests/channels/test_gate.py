"""The compliance gate: each rule has a case that would pass without it and fails with it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from backend.services.compliance.facts import ContactState, GateFacts, SentRecord
from backend.services.compliance.gate import decide
from backend.services.compliance.rules import ComplianceRules, load_rules
from bot.messages import ConversationKey, OutboundMessage, Purpose

RULES = load_rules()
NY = ("America/New_York",)
NOON_NY = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # 12:00 in New York
SMS = ConversationKey("sms", "+12125551234")
CONSENTED = ContactState(opted_out_at=None, consent=True, wrong_party=False)


def facts(**kw: object) -> GateFacts:
    base = GateFacts(zones=NY, regions=("NY",), contact=CONSENTED, conversation_id=1)
    return replace(base, **kw)  # type: ignore[arg-type]


def out(purpose: Purpose = Purpose.REPLY, key: ConversationKey = SMS, **kw: object
        ) -> OutboundMessage:
    return OutboundMessage(key=key, text="Hello", purpose=purpose, conversation_id=1,
                           account_id=1, **kw)  # type: ignore[arg-type]


def ny(hour: int, minute: int = 0, day: int = 25) -> datetime:
    # EST is UTC-5 in November.
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) + timedelta(hours=5)


def test_the_rules_file_carries_the_massachusetts_override() -> None:
    assert _strictest(("MA",)) == 2 and _strictest(("NY",)) == 3
    assert (RULES.quiet_start.hour, RULES.quiet_end.hour) == (8, 21)


def test_an_ordinary_reply_at_noon_is_allowed() -> None:
    assert decide(out(), facts(), RULES, NOON_NY).allowed


@pytest.mark.parametrize("state", ["cease", "attorney", "bankruptcy", "deceased"])
def test_hold_states_block_everything_but_one_acknowledgement(state: str) -> None:
    held = facts(stop_states=frozenset({state}))
    assert decide(out(), held, RULES, NOON_NY).reason == f"stop_state:{state}"
    assert decide(out(Purpose.STOP_ACKNOWLEDGEMENT), held, RULES, NOON_NY).allowed
    acked = replace(held, stop_acks=1)
    assert decide(out(Purpose.STOP_ACKNOWLEDGEMENT), acked, RULES, NOON_NY).status == "blocked"


def test_a_dispute_pauses_collection_content_but_not_a_neutral_reply() -> None:
    disputed = facts(stop_states=frozenset({"dispute"}))
    assert decide(out(Purpose.REMINDER), disputed, RULES, NOON_NY).reason == "dispute_pause"
    debt = out(discusses_debt=True, recipient_verified=True)
    assert decide(debt, disputed, RULES, NOON_NY).reason == "dispute_pause"
    assert decide(out(), disputed, RULES, NOON_NY).allowed


def test_a_wrong_party_address_is_never_messaged() -> None:
    wrong = facts(contact=replace(CONSENTED, wrong_party=True))
    assert decide(out(), wrong, RULES, NOON_NY).reason == "wrong_party"


def test_after_an_opt_out_only_one_confirmation_goes() -> None:
    opted_at = NOON_NY - timedelta(minutes=1)
    opted = facts(contact=replace(CONSENTED, opted_out_at=opted_at))
    assert decide(out(), opted, RULES, NOON_NY).reason == "opted_out"
    assert decide(out(Purpose.OPT_OUT_CONFIRMATION), opted, RULES, NOON_NY).allowed
    confirmed = replace(opted, confirmations_at=(NOON_NY,))
    assert decide(out(Purpose.OPT_OUT_CONFIRMATION), confirmed, RULES, NOON_NY).reason == (
        "opted_out")


def test_the_opt_out_confirmation_goes_even_at_night() -> None:
    night = ny(23)
    opted = facts(contact=replace(CONSENTED, opted_out_at=night - timedelta(seconds=20)))
    assert decide(out(Purpose.OPT_OUT_CONFIRMATION), opted, RULES, night).allowed


def test_reminders_need_a_consented_contact_point() -> None:
    assert decide(out(Purpose.REMINDER), facts(contact=None), RULES, NOON_NY).reason == (
        "no_consent")
    no = facts(contact=replace(CONSENTED, consent=False))
    assert decide(out(Purpose.REMINDER), no, RULES, NOON_NY).reason == "no_consent"
    assert decide(out(Purpose.REMINDER), facts(), RULES, NOON_NY).allowed


def test_telegram_only_reaches_users_who_started_the_bot() -> None:
    chat = ConversationKey("telegram", "777001")
    assert decide(out(key=chat), facts(contact=None), RULES, NOON_NY).reason == (
        "telegram_not_started")
    assert decide(out(key=chat), facts(), RULES, NOON_NY).allowed


def test_debt_content_needs_a_verified_recipient() -> None:
    unverified = out(discusses_debt=True)
    assert decide(unverified, facts(), RULES, NOON_NY).reason == "identity_unverified"
    assert decide(out(discusses_debt=True, recipient_verified=True), facts(), RULES, NOON_NY
                  ).allowed


def test_quiet_hours_defer_to_eight_the_next_morning() -> None:
    decision = decide(out(Purpose.REMINDER), facts(), RULES, ny(21, 5))
    assert decision.status == "deferred" and decision.reason == "quiet_hours"
    assert decision.not_before == ny(8, 0, day=26)
    early = decide(out(Purpose.REMINDER), facts(), RULES, ny(7, 59))
    assert early.not_before == ny(8)
    assert decide(out(Purpose.REMINDER), facts(), RULES, ny(20, 59)).allowed


def test_disagreeing_timezones_allow_only_the_overlap() -> None:
    both = facts(zones=("America/New_York", "America/Los_Angeles"))
    decision = decide(out(Purpose.REMINDER), both, RULES, ny(10))  # 07:00 in Los Angeles
    assert decision.status == "deferred" and decision.not_before == ny(11)
    assert decide(out(Purpose.REMINDER), both, RULES, ny(11)).allowed
    assert decide(out(Purpose.REMINDER), both, RULES, ny(20, 30)).allowed


def test_a_debtor_who_writes_at_night_gets_one_reply() -> None:
    now = ny(22, 30)
    wrote = facts(latest_inbound_id=9, latest_inbound_at=now - timedelta(minutes=1))
    assert decide(out(in_reply_to=9), wrote, RULES, now).allowed
    replied = replace(wrote, recent=(SentRecord(now - timedelta(seconds=30), "reply", 1),))
    second = decide(out(in_reply_to=9), replied, RULES, now)
    assert second.status == "deferred" and second.not_before == ny(8, day=26)
    stale = facts(latest_inbound_id=9, latest_inbound_at=now - timedelta(hours=2))
    assert decide(out(in_reply_to=9), stale, RULES, now).status == "deferred"
    assert decide(out(Purpose.REMINDER), wrote, RULES, now).status == "deferred"


def test_without_any_location_only_a_fresh_reply_is_allowed() -> None:
    unknown = facts(zones=(), latest_inbound_id=3, latest_inbound_at=NOON_NY)
    assert decide(out(), unknown, RULES, NOON_NY).allowed
    assert decide(out(Purpose.REMINDER), unknown, RULES, NOON_NY).reason == "no_location_signal"


def test_the_frequency_cap_defers_until_the_oldest_leaves_the_window() -> None:
    sent = tuple(SentRecord(NOON_NY - timedelta(days=d), "reminder", 1) for d in (6, 4, 1))
    decision = decide(out(Purpose.REMINDER), facts(recent=sent), RULES, NOON_NY)
    assert decision.reason == "frequency_cap"
    assert decision.not_before == NOON_NY + timedelta(days=1)
    replies = tuple(SentRecord(r.at, "reply", 1) for r in sent)
    assert decide(out(Purpose.REMINDER), facts(recent=replies), RULES, NOON_NY).allowed


def test_at_the_deferred_time_the_capped_message_is_allowed() -> None:
    sent = tuple(SentRecord(NOON_NY - timedelta(days=d), "reminder", 1) for d in (6, 4, 1))
    deferred = decide(out(Purpose.REMINDER), facts(recent=sent), RULES, NOON_NY)
    assert deferred.not_before is not None and deferred.not_before > NOON_NY
    # The facts still hold the oldest row (read with an inclusive bound), yet it has left.
    later = decide(out(Purpose.REMINDER), facts(recent=sent), RULES, deferred.not_before)
    assert later.allowed, later.reason


def test_massachusetts_allows_two_per_seven_days() -> None:
    sent = tuple(SentRecord(NOON_NY - timedelta(days=d), "reminder", 1) for d in (5, 2))
    ma = facts(recent=sent, regions=("MA",))
    assert decide(out(Purpose.REMINDER), ma, RULES, NOON_NY).reason == "frequency_cap"
    assert decide(out(Purpose.REMINDER), facts(recent=sent), RULES, NOON_NY).allowed


def test_a_stricter_rules_file_is_honoured() -> None:
    strict = ComplianceRules(cap_per_channel=1)
    sent = (SentRecord(NOON_NY - timedelta(days=1), "reminder", 1),)
    assert decide(out(Purpose.REMINDER), facts(recent=sent), strict, NOON_NY).status == "deferred"


def test_whatsapp_free_text_needs_the_24_hour_window_or_a_template() -> None:
    wa = ConversationKey("whatsapp", "+12125551234")
    inside = facts(latest_inbound_id=5, latest_inbound_at=NOON_NY - timedelta(hours=23))
    decision = decide(out(key=wa), inside, RULES, NOON_NY)
    assert decision.allowed and not decision.use_template
    outside = facts(latest_inbound_id=5, latest_inbound_at=NOON_NY - timedelta(hours=25))
    assert decide(out(key=wa), outside, RULES, NOON_NY).reason == "whatsapp_window_closed"
    templated = decide(out(key=wa, template="parley_reminder"), outside, RULES, NOON_NY)
    assert templated.allowed and templated.use_template


def _strictest(regions: tuple[str, ...]) -> int:
    """The smallest limit of every matched jurisdiction (compliance.md B item 41)."""
    return min(cap.limit for cap in RULES.caps_for(regions))
