"""The one function that decides whether a message may go to this person on this channel now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from backend.services.compliance.debt_mentions import Mention, debt_mention, threat_mention
from backend.services.compliance.facts import ContactState, GateFacts, SentRecord
from backend.services.compliance.hours import WindowState, window_state
from backend.services.compliance.rules import Cap, ComplianceRules
from backend.services.geo import US_SPLIT_STATE_ZIP3, US_STATE_TIMEZONES
from bot.messages import OutboundMessage, Purpose

ALLOW, DEFER, BLOCK = "pending", "deferred", "blocked"
PASS = "passed"  # a check that allows and lets the later checks speak
HOLD_STATES = frozenset({"cease", "attorney", "bankruptcy", "deceased"})
CONFIRMATIONS = frozenset({Purpose.OPT_OUT_CONFIRMATION, Purpose.STOP_ACKNOWLEDGEMENT})
# Where a debtor of unknown location may be: every US zone the product derives (compliance.md
# A.1 item 3, the most restrictive reading). Guam (UTC+10) is left out: it shares no hour with
# Hawaii, so it would leave none at all; a Guam debtor's 671 number or address names its zone.
UNKNOWN_ZONES = tuple(sorted(
    ({*US_STATE_TIMEZONES.values()} | {z for s in US_SPLIT_STATE_ZIP3.values() for z in s})
    - {"Pacific/Guam"}))


@dataclass(frozen=True)
class GateDecision:
    """allow ("pending") / defer until `not_before` / block, with the rule that decided."""

    status: str
    reason: str = "allowed"
    rule: str = ""
    not_before: datetime | None = None
    use_template: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        """True when the message may be sent now."""
        return self.status == ALLOW


@dataclass(frozen=True)
class _Ctx:
    out: OutboundMessage
    facts: GateFacts
    rules: ComplianceRules
    now: datetime


Check = Callable[[_Ctx], GateDecision | None]


def decide(outbound: OutboundMessage, facts: GateFacts, rules: ComplianceRules,
           now: datetime) -> GateDecision:
    """Run every check in the precedence of compliance.md G item 76; the first verdict wins."""
    ctx = _Ctx(outbound, facts, rules, now)
    details: dict[str, Any] = {}
    use_template = False
    for check in CHECKS:
        verdict = check(ctx)
        if verdict is None:
            continue
        details.update(verdict.details)
        use_template = use_template or verdict.use_template
        if verdict.reason != PASS:
            return replace(verdict, details=details)
    return GateDecision(ALLOW, details=details, use_template=use_template)


def _block(reason: str, rule: str, **details: Any) -> GateDecision:
    return GateDecision(BLOCK, reason, rule, details=details)


def check_hold_states(ctx: _Ctx) -> GateDecision | None:
    """Cease, attorney, bankruptcy, deceased stop everything but one acknowledgement."""
    # compliance.md A.2 items 8, 11; A.3 item 16; A.5 item 27; G item 75 (12 CFR 1006.6(b)(2),
    # 1006.6(c), 11 U.S.C. 362(a)(6)).
    held = sorted(HOLD_STATES & ctx.facts.stop_states)
    if not held:
        return None
    if ctx.out.purpose == Purpose.STOP_ACKNOWLEDGEMENT and ctx.facts.stop_acks == 0:
        return None
    return _block(f"stop_state:{held[0]}", "compliance.md A.2/A.5/G.75", stop_states=held)


def check_paid_off(ctx: _Ctx) -> GateDecision | None:
    """A paid, settled or closed account gets no more collection outreach, ever."""
    # docs/WORKFLOW.md ("paid: nothing more, ever"); compliance.md A.4 item 19 (12 CFR
    # 1006.18): asking for money no longer owed misrepresents the debt. Checked again when a
    # deferred message is released, so a payment meanwhile stops it. Replies, agents and
    # receipts still go.
    if ctx.facts.paid_off is None or ctx.out.purpose != Purpose.REMINDER:
        return None
    return _block(f"account_{ctx.facts.paid_off}", "WORKFLOW.md paid; compliance.md A.4 item 19")


# The idempotency key the workflow gives the reminders and follow-ups of an arrangement the
# debtor agreed (a promise, a plan's installments): backend/workflow/sender.py.
AGREED_KEY_PREFIX = "agreed:"


def check_hardship(ctx: _Ctx) -> GateDecision | None:
    """Hardship pauses outreach, but for the reminders of what the debtor agreed under it; a
    campaign reminder deferred before it was reported must not go."""
    # docs/WORKFLOW.md ("hardship"); compliance.md F item 67 (forbearance), item 73. A plan
    # agreed under hardship is the forbearance: it is judged, so the reminders the debtor
    # asked for go, and the collection ladder stays held.
    if "hardship" not in ctx.facts.stop_states or ctx.out.purpose != Purpose.REMINDER:
        return None
    if (ctx.out.idempotency_key or "").startswith(AGREED_KEY_PREFIX):
        return None
    return _block("hardship_pause", "WORKFLOW.md hardship; compliance.md F items 67, 73")


def check_dispute(ctx: _Ctx) -> GateDecision | None:
    """A dispute pauses collection content until verification is sent."""
    # compliance.md A.5 item 25: 12 CFR 1006.38(d)(2), 15 U.S.C. 1692g(b).
    if "dispute" not in ctx.facts.stop_states:
        return None
    if ctx.out.purpose == Purpose.REMINDER or ctx.out.discusses_debt:
        return _block("dispute_pause", "compliance.md A.5 item 25 (12 CFR 1006.38(d)(2))")
    # The bot's own replies are exempt from reading the text: on a disputed account the engine
    # is held (bot/dialogs/stop_states.HOLDS) and says only the acknowledgement item 25 allows
    # ("we'll pause collection"). What a person wrote is read, whatever its box said.
    mention = None if ctx.out.purpose == Purpose.REPLY else _mentions_debt(ctx)
    if mention is not None:
        return _block("dispute_pause", "compliance.md A.5 item 25 (12 CFR 1006.38(d)(2))",
                      debt_mention=mention.kind)
    return None


# Written by a person or a campaign, not by the bot's reviewed wording.
PEOPLES_WORDS = (Purpose.AGENT, Purpose.REMINDER)


def check_threats(ctx: _Ctx) -> GateDecision | None:
    """No threat of arrest, a lawsuit, garnishment or seizure in what a person or a campaign
    wrote: compliance.md A.4 item 19(b), 12 CFR 1006.18(c), 15 U.S.C. 1692e(4)-(5). The
    account flag a person would set to authorise an intended, lawful action does not exist
    yet, so every such word is held back; the audit names the kind, never the words."""
    if ctx.out.purpose not in PEOPLES_WORDS or threat_mention(ctx.out.text) is None:
        return None
    return _block("threat_of_action", "compliance.md A.4 item 19 (12 CFR 1006.18(c))")


def check_wrong_party(ctx: _Ctx) -> GateDecision | None:
    """An address that reached the wrong person is never messaged again, but for the apology."""
    # compliance.md A.2 item 9: 15 U.S.C. 1692c(b), 12 CFR 1006.6(d).
    if not (ctx.facts.contact and ctx.facts.contact.wrong_party):
        return None
    if _acknowledges_wrong_party(ctx):
        # Item 9's suppression follows the one apology to the message that said "wrong
        # number", as C item 45's one confirmation follows an opt-out; the later checks
        # (opt-outs, identity before disclosure) still speak.
        return GateDecision(ALLOW, PASS, details={"wrong_party_acknowledgement": True})
    return _block("wrong_party", "compliance.md A.2 item 9 (15 U.S.C. 1692c(b))")


def check_opt_out(ctx: _Ctx) -> GateDecision | None:
    """After an opt-out only one confirmation may go to that address."""
    # compliance.md A.3 items 13-15 (12 CFR 1006.14(h)), C items 43-45 (47 CFR 64.1200(a)(12)),
    # C item 51 (suppression by address, not by our sender).
    contact = ctx.facts.contact
    since = _opted_out_since(contact)
    if contact is None or since is None:
        return None
    confirmed = any(at >= since for at in ctx.facts.confirmations_at) or any(
        ack.at >= since for ack in ctx.facts.acknowledgements)
    if ctx.out.purpose == Purpose.OPT_OUT_CONFIRMATION and not confirmed:
        return GateDecision(ALLOW, "opt_out_confirmation", "compliance.md C item 45")
    # A cease written with the opt-out (opted out since the message this answers) is
    # acknowledged instead of confirmed: still one message. An older opt-out stays silent.
    answered = ctx.facts.latest_inbound_at
    if (ctx.out.purpose == Purpose.STOP_ACKNOWLEDGEMENT and not confirmed
            and answered is not None and since >= answered):
        return GateDecision(ALLOW, "stop_acknowledgement", "compliance.md C item 45")
    if contact.opted_out_at is None:
        return _block("opted_out", "compliance.md A.3 items 12-15, C items 43-46",
                      same_number=True)
    return _block("opted_out", "compliance.md A.3 items 13-15, C items 43-45")


def _opted_out_since(contact: ContactState | None) -> datetime | None:
    """The latest opt-out holding the address: its own, or the same number's on the other
    phone channel (compliance.md A.3 item 12, C item 46)."""
    if contact is None:
        return None
    held = [at for at in (contact.opted_out_at, contact.same_number_opted_out_at) if at]
    return max(held) if held else None


def check_consent(ctx: _Ctx) -> GateDecision | None:
    """Outreach (reminders, an agent's first words on an address) needs consent; Telegram needs
    a started bot; WhatsApp outreach an opt-in."""
    channel, contact = ctx.out.key.channel, ctx.facts.contact
    if channel == "telegram" and contact is None and ctx.facts.latest_inbound_id is None:
        # compliance.md E item 62: a bot cannot message a user who has not started it.
        return _block("telegram_not_started", "compliance.md E item 62")
    if not _starts_contact(ctx):
        return None
    if contact is None or not contact.consent:
        # compliance.md C item 42 (TCPA prior express consent), D item 53 (WhatsApp opt-in).
        return _block("no_consent", "compliance.md C item 42 / D item 53")
    return None


def _starts_contact(ctx: _Ctx) -> bool:
    """A reminder, or an agent's message to an address that never wrote to us on the channel."""
    # compliance.md D item 53: "user-initiated threads do not need a prior opt-in to be
    # answered"; an address that wrote on this channel has opened one (how long ago is the
    # WhatsApp window's and the caps' business, not consent's).
    if ctx.out.purpose == Purpose.AGENT:
        return ctx.facts.latest_inbound_id is None
    return ctx.out.purpose == Purpose.REMINDER


def check_written_consent(ctx: _Ctx) -> GateDecision | None:
    """Where a place requires it, text or chat contact we start waits for written consent."""
    # compliance.md B item 33 (NYC DCWP "SHIELD" rule, 6 RCNY; 🟡 confirm with counsel):
    # electronic contact needs the consumer's prior written, revocable consent. Revoking it on
    # a medium is that medium's opt-out (check_opt_out); a reply inside an exchange the debtor
    # started is not contact we start (B item 31), so only reminders and agents' openers wait.
    if not ctx.rules.needs_written_consent(ctx.out.key.channel, ctx.facts.regions):
        return None
    if ctx.facts.written_consent_at is not None:
        return None
    if ctx.out.purpose == Purpose.REMINDER or (
        ctx.out.purpose == Purpose.AGENT and not _answers_fresh_inbound(ctx)
    ):
        return _block("no_written_consent", "compliance.md B item 33 (NYC 6 RCNY)",
                      regions=list(ctx.facts.regions))
    return None


def check_identity(ctx: _Ctx) -> GateDecision | None:
    """Nothing about the debt before right-party verification."""
    # compliance.md A.2 item 9 (15 U.S.C. 1692c(b)), E item 66, F item 70 (CONC 7.9.7R).
    if ctx.out.recipient_verified:
        return None
    if ctx.out.discusses_debt:
        return _block("identity_unverified", "compliance.md A.2 item 9")
    # Item 9 is about what the words say, not what the sender declared: a campaign template or
    # an agent's text naming an amount, the creditor or the debt discusses it.
    mention = _mentions_debt(ctx)
    if mention is not None:
        return _block("identity_unverified", "compliance.md A.2 item 9",
                      debt_mention=mention.kind)
    return None


def _mentions_debt(ctx: _Ctx) -> Mention | None:
    """What in the text tells its reader about the debt (the kind is audited, never the words)."""
    return debt_mention(ctx.out.text, _account_terms(ctx.facts))


def _account_terms(facts: GateFacts) -> tuple[str | None, ...]:
    """The account's creditor name and reference (None without an account)."""
    return facts.creditor_name, facts.account_reference


def check_quiet_hours(ctx: _Ctx) -> GateDecision | None:
    """08:00-21:00 in every zone the debtor may be in, narrowed by the hours the debtor called
    inconvenient; one reply to a debtor who just wrote."""
    # compliance.md A.1 items 1-3 (12 CFR 1006.6(b)(1)(i)), measured at send time (item 2);
    # items 4-5 (1006.6(b)(1), comment 6(b)(1)-2): the debtor's own hours narrow the window,
    # and writing inside them earns the same one reply.
    if ctx.out.purpose in CONFIRMATIONS:
        return None  # C item 45: the confirmation is due within minutes, whatever the hour.
    zones, unknown = ctx.facts.zones, not ctx.facts.zones
    if unknown:
        if not _answers_debtor(ctx):
            return _block("no_location_signal", "compliance.md A.1 item 3")
        if ctx.out.account_id is None and _answers_fresh_inbound(ctx):
            return None  # a sender no account is known for: no debt to collect, none named
        # Answering someone who wrote: only the hours convenient in every zone they may be in.
        zones = UNKNOWN_ZONES
    start, end, designated = _allowed_hours(ctx)
    state = window_state(ctx.now, zones, start, end) if start < end else _never_open(ctx, zones)
    info = {"zones": list(zones), "local_times": state.local_times, **designated}
    if unknown:
        info["zone_unknown"] = True  # the audit says why every US zone was checked
    if state.open:
        return GateDecision(ALLOW, PASS, details=info)
    if state.closed_since and _answers_fresh_inbound(ctx) and not _replied_since(
        ctx, state.closed_since
    ):
        # A.1 item 5 (comment 6(b)(1)-2): a debtor-initiated exchange may be answered once.
        return GateDecision(ALLOW, PASS, details={**info, "reply_exception": True})
    if state.next_open is None:
        return _block("no_allowed_hours", "compliance.md A.1 item 3", **info)
    return GateDecision(DEFER, "quiet_hours", "compliance.md A.1 items 1-2 (1006.6(b)(1)(i))",
                        not_before=state.next_open, details=info)


def _allowed_hours(ctx: _Ctx) -> tuple[time, time, dict[str, Any]]:
    """The default window narrowed by the debtor's designation, and what to audit of it."""
    rules, facts = ctx.rules, ctx.facts
    start, end = rules.quiet_start, rules.quiet_end
    if facts.contact_not_before is None and facts.contact_not_after is None:
        return start, end, {}
    if facts.contact_not_before is not None:
        start = max(start, facts.contact_not_before)
    if facts.contact_not_after is not None:
        end = min(end, facts.contact_not_after)
    return start, end, {"designated_hours": {
        "not_before": _hhmm(facts.contact_not_before), "not_after": _hhmm(facts.contact_not_after),
        "allowed": f"{start:%H:%M}-{end:%H:%M}"}}


def _hhmm(at: time | None) -> str | None:
    return f"{at:%H:%M}" if at is not None else None


def _never_open(ctx: _Ctx, zones: tuple[str, ...]) -> WindowState:
    """No hour is left: closed since the day began, never opening (the reply may still go)."""
    state = window_state(ctx.now, zones, ctx.rules.quiet_start, ctx.rules.quiet_end)
    day_start = min(ctx.now.astimezone(ZoneInfo(z)).replace(hour=0, minute=0, second=0,
                                                           microsecond=0) for z in zones)
    return WindowState(False, None, day_start.astimezone(ctx.now.tzinfo), state.local_times)


def check_frequency(ctx: _Ctx) -> GateDecision | None:
    """Collector-initiated messages per account (and address) in a rolling window."""
    # compliance.md A.4 item 20 (policy cap), B items 31-32 (MA 2 per 7 days across SMS,
    # WhatsApp and Telegram), 33 (NYC, from the address), 39, 41 (every matched cap applies).
    if ctx.out.purpose not in ctx.rules.counted_purposes:
        return None
    if _answers_fresh_inbound(ctx):
        # B item 31: a reply inside an exchange the debtor just started is not initiated by us.
        return GateDecision(ALLOW, PASS, details={"initiated": False})
    # A message leaves the window exactly `cap_window` after it was sent, the moment the
    # deferral below names; counting it then too would defer to the same instant forever.
    since = ctx.now - ctx.rules.cap_window
    counted = [r for r in ctx.facts.recent if r.at > since and not r.answered
               and r.purpose in ctx.rules.counted_purposes]
    limits = [_cap_limit(cap, counted, ctx) for cap in ctx.rules.caps_for(ctx.facts.regions)]
    # The cap that lets the message go last binds; among open ones, the one with least room.
    cap, sent, not_before = max(limits, key=lambda c: (c[2] or ctx.now, len(c[1]) - c[0].limit))
    info = {"initiated": True, "cap": cap.limit, "scope": cap.scope, "cap_source": cap.source,
            "counted": len(sent), "regions": list(ctx.facts.regions)}
    if not_before is None:
        return GateDecision(ALLOW, PASS, details=info)
    return GateDecision(DEFER, "frequency_cap", "compliance.md A.4 item 20, B items 31/39/41",
                        not_before=not_before, details=info)


def _cap_limit(cap: Cap, counted: list[SentRecord], ctx: _Ctx
               ) -> tuple[Cap, list[datetime], datetime | None]:
    """The cap, the sends it counts, and when it lets one more go (None: now)."""
    channel = ctx.out.key.channel
    sent = sorted(r.at for r in counted
                  if cap.across_channels or r.channel in (None, channel))
    if len(sent) < cap.limit:
        return cap, sent, None
    return cap, sent, sent[len(sent) - cap.limit] + ctx.rules.cap_window


def check_whatsapp_window(ctx: _Ctx) -> GateDecision | None:
    """Free-form WhatsApp only within 24 hours of the user's last message; else a template."""
    # compliance.md D item 54 (Meta customer-service window; Twilio 63016, Meta 131047).
    if ctx.out.key.channel != "whatsapp":
        return None
    last = ctx.facts.latest_inbound_at
    if last is not None and ctx.now - last <= ctx.rules.whatsapp_window:
        return None
    if ctx.out.template:
        return GateDecision(ALLOW, PASS, use_template=True)
    return _block("whatsapp_window_closed", "compliance.md D item 54")


def _answers_fresh_inbound(ctx: _Ctx) -> bool:
    f = ctx.facts
    return (
        ctx.out.purpose in (Purpose.REPLY, Purpose.AGENT)
        and f.latest_inbound_at is not None
        and ctx.out.in_reply_to in (None, f.latest_inbound_id)
        and ctx.now - f.latest_inbound_at <= ctx.rules.reply_window
    )


def _answers_debtor(ctx: _Ctx) -> bool:
    """A bot reply (one deferred earlier too) or a person's answer to a fresh message."""
    return ctx.out.purpose == Purpose.REPLY or _answers_fresh_inbound(ctx)


def _acknowledges_wrong_party(ctx: _Ctx) -> bool:
    """The conversation's first stop acknowledgement, answering its latest inbound, no debt."""
    f = ctx.facts
    return (
        ctx.out.purpose == Purpose.STOP_ACKNOWLEDGEMENT
        and not ctx.out.discusses_debt
        and _mentions_debt(ctx) is None
        and f.latest_inbound_id is not None
        and ctx.out.in_reply_to == f.latest_inbound_id
        and not any(r.conversation_id == f.conversation_id for r in f.acknowledgements)
    )


def _replied_since(ctx: _Ctx, since: datetime) -> bool:
    conv = ctx.facts.conversation_id
    return any(r.at >= since and r.conversation_id == conv for r in ctx.facts.recent)


CHECKS: tuple[Check, ...] = (
    check_hold_states, check_paid_off, check_hardship, check_dispute, check_threats,
    check_wrong_party,
    check_opt_out, check_consent, check_written_consent, check_identity, check_quiet_hours,
    check_frequency, check_whatsapp_window,
)
