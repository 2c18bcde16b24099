"""Everything the gate needs to know about a recipient, read in one place from the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from functools import cache, lru_cache
from typing import Any

import phonenumbers
from phonenumbers import geocoder
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    bindparam,
    case,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backend.db.models import (
    Account,
    ContactPoint,
    Conversation,
    Creditor,
    Debtor,
    Message,
    Portfolio,
)
from backend.db.models.enums import AccountStatus, Direction
from backend.db.types import UtcDateTime
from backend.services.compliance.rules import ComplianceRules
from backend.services.geo import address_zones, is_state_default_zone, phone_timezones
from backend.services.imports.regions import US_STATE_CODES
from bot.messages import OutboundMessage, Purpose

# Attempts count as communications too (Reg F "communication or attempt"); held ones do not.
COUNTED = ("pending", "queued", "sent", "delivered", "read", "failed", "undelivered")
PHONE_CHANNELS = ("sms", "whatsapp")
# "Reply STOP to stop messages to this number" (compliance.md A.3 item 12, C item 46): an
# opt-out on one of a number's phone channels stops the other too, whenever the other's
# contact point was created, until the other channel itself says START. That START marks the
# opt-out with this prefix (consent.record_opt_in): it then holds its own channel only.
OTHER_PHONE_CHANNEL = {"sms": "whatsapp", "whatsapp": "sms"}
RESUMED_ELSEWHERE = "[START on the other channel since] "


def holds_other_channel(point: type[ContactPoint]) -> ColumnElement[bool]:
    """SQL: `point`'s opt-out still holds its number's other phone channel (no START there
    since); the gate's facts and the turn's both read it."""
    return ~func.coalesce(point.opt_out_reason, "").startswith(RESUMED_ELSEWHERE,
                                                                autoescape=True)
STATE_SUFFIX = re.compile(r", ([A-Z]{2})$")


@dataclass(frozen=True)
class SentRecord:
    """One outbound message already let through, at the time it was sent."""

    at: datetime
    purpose: str
    conversation_id: int
    channel: str | None = None  # None: unknown, so counted against every channel's cap
    answered: bool = False  # the gate found it answering the debtor (not collector-initiated)


@dataclass(frozen=True)
class ContactState:
    """The address's consent state on this channel (merged over every debtor that has it)."""

    opted_out_at: datetime | None
    consent: bool
    wrong_party: bool
    # The same number's opt-out on the other phone channel that still holds this one.
    same_number_opted_out_at: datetime | None = None


@dataclass(frozen=True)
class GateFacts:
    """A snapshot of the recipient, the account and recent traffic."""

    stop_states: frozenset[str] = frozenset()
    zones: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    contact: ContactState | None = None
    conversation_id: int | None = None
    latest_inbound_id: int | None = None
    latest_inbound_at: datetime | None = None
    recent: tuple[SentRecord, ...] = ()  # on the account or to the address, on every channel
    confirmations_at: tuple[datetime, ...] = ()
    stop_acks: int = 0
    acknowledgements: tuple[SentRecord, ...] = ()  # every stop acknowledgement, of any age
    paid_off: str | None = None  # paid / settled / closed: nothing is left to collect
    written_consent_at: datetime | None = None  # the debtor's written consent to e-contact
    # The local hours the debtor called inconvenient: nothing before / after these.
    contact_not_before: time | None = None
    contact_not_after: time | None = None
    # What names the debt to its reader (compliance.md A.2 item 9), matched in the text.
    creditor_name: str | None = None
    account_reference: str | None = None


async def load_facts(
    session: AsyncSession,
    outbound: OutboundMessage,
    conversation_id: int | None,
    now: datetime,
    rules: ComplianceRules,
    exclude_id: int | None = None,
) -> GateFacts:
    """Read the facts for `outbound` (excluding the message row `exclude_id` itself)."""
    account = await session.get(Account, outbound.account_id) if outbound.account_id else None
    debtor = await session.get(Debtor, account.debtor_id) if account else None
    contact, inbound, creditor, debtor_phones, outbound_rows = await _read(
        session, outbound, account, conversation_id, now, rules, exclude_id)
    phones = _phones(outbound, debtor_phones)
    # Opt-outs and acknowledgements are per channel: another channel's rows do not spend them.
    on_channel = [r for r in outbound_rows if r.channel == outbound.key.channel]
    return GateFacts(
        stop_states=frozenset(account.stop_states) if account else frozenset(),
        zones=_zones(phones, debtor, rules),
        regions=_regions(phones, debtor, rules),
        contact=contact,
        conversation_id=conversation_id,
        latest_inbound_id=inbound[0] if inbound else None,
        latest_inbound_at=inbound[1] if inbound else None,
        recent=tuple(r for r in outbound_rows if r.at >= now - rules.cap_window),
        confirmations_at=tuple(r.at for r in on_channel
                               if r.purpose == Purpose.OPT_OUT_CONFIRMATION),
        stop_acks=sum(1 for r in on_channel if r.purpose == Purpose.STOP_ACKNOWLEDGEMENT),
        acknowledgements=tuple(r for r in on_channel
                               if r.purpose == Purpose.STOP_ACKNOWLEDGEMENT),
        paid_off=_paid_off(account),
        written_consent_at=debtor.written_consent_at if debtor else None,
        contact_not_before=debtor.contact_not_before if debtor else None,
        contact_not_after=debtor.contact_not_after if debtor else None,
        creditor_name=creditor,
        account_reference=account.external_ref if account else None,
    )


def _paid_off(account: Account | None) -> str | None:
    # docs/WORKFLOW.md: paid (status paid/settled/closed or balance <= 0) is "nothing more, ever".
    if account is None:
        return None
    if account.status != AccountStatus.ACTIVE:
        return str(account.status)
    return AccountStatus.PAID.value if account.current_balance <= 0 else None


def _phones(outbound: OutboundMessage, debtor_phones: str | None) -> tuple[str, ...]:
    """The address messaged if it is a phone, and every phone known to be the debtor's (read
    by the facts statement as one comma-separated string: E.164 numbers hold no comma)."""
    phones = [outbound.key.address] if outbound.key.channel in PHONE_CHANNELS else []
    phones.extend(debtor_phones.split(",") if debtor_phones else ())
    return tuple(dict.fromkeys(phones))


def _zones(phones: tuple[str, ...], debtor: Debtor | None, rules: ComplianceRules
           ) -> tuple[str, ...]:
    """The debtor's zone(s) and every known phone's, whatever the channel (A.1 item 3)."""
    zones = list(_debtor_zones(debtor))
    for phone in phones:
        from_phone = phone_timezones(phone)
        # A prefix spanning a whole country is no location signal (compliance.md A.1 item 3).
        if 0 < len(from_phone) <= rules.max_phone_zones:
            zones.extend(from_phone)
    return tuple(dict.fromkeys(zones))


def _debtor_zones(debtor: Debtor | None) -> tuple[str, ...]:
    """The zone given for the debtor; unless it was given, every zone their address may be in."""
    if debtor is None:
        return ()
    given = (debtor.timezone,) if debtor.timezone else ()
    if not is_state_default_zone(debtor.timezone, debtor.region, debtor.country):
        return given
    # A zone derived from a split state (Pensacola FL, Paducah KY) may be the wrong one:
    # use every zone the address suggests, the ZIP's if known (compliance.md A.1 item 3).
    return given + address_zones(debtor.region, debtor.country, debtor.postal_code)


def _regions(phones: tuple[str, ...], debtor: Debtor | None, rules: ComplianceRules
             ) -> tuple[str, ...]:
    """The address's state and places, every known phone's area-code state (B items 33, 41)."""
    regions = [debtor.region.upper()] if debtor and debtor.region else []
    if debtor is not None:
        # compliance.md B item 33: a city's rule (NYC) follows the address, never the phone.
        regions.extend(rules.places_of(debtor.postal_code, debtor.region, debtor.country))
    regions.extend(state for phone in phones if (state := area_code_state(phone)))
    return tuple(dict.fromkeys(regions))


@lru_cache(maxsize=4096)
def area_code_state(e164: str) -> str | None:
    """The US state a number's area code belongs to ("+16175551234" -> "MA"), if any."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.region_code_for_number(number) != "US":
        return None
    # The geocoder names a state ("Massachusetts") or a place in one ("Boston, MA").
    place = geocoder.description_for_number(number, "en")
    suffix = STATE_SUFFIX.search(place)
    return suffix.group(1) if suffix else US_STATE_CODES.get(place.casefold())


async def _read(
    session: AsyncSession, outbound: OutboundMessage, account: Account | None,
    conversation_id: int | None, now: datetime, rules: ComplianceRules, exclude_id: int | None,
) -> tuple[ContactState | None, tuple[int, datetime] | None, str | None, str | None,
           list[SentRecord]]:
    """The address's merged contact state (with the same number's opt-out on the other phone
    channel), its latest inbound, the account's creditor name, the debtor's phones and the
    counted outbound rows.

    One statement: the one-row recipient part, outer-joined to every outbound row (or to none).
    """
    rows = (await session.execute(
        _facts_query(account is not None, conversation_id is not None),
        {"channel": outbound.key.channel, "address": outbound.key.address,
         "other_channel": OTHER_PHONE_CHANNEL.get(outbound.key.channel),
         "account_id": account.id if account else None, "conversation_id": conversation_id,
         "portfolio_id": account.portfolio_id if account else None,
         "debtor_id": account.debtor_id if account else None,
         "exclude_id": exclude_id or -1, "since": now - rules.cap_window})).all()
    (count, opted_out_at, consent, wrong_party, inbound_id, inbound_at, creditor,
     same_number, debtor_phones) = rows[0][:9]
    contact = None if not (count or same_number) else ContactState(
        opted_out_at=opted_out_at, consent=bool(consent),
        wrong_party=bool(wrong_party), same_number_opted_out_at=same_number)
    inbound = (inbound_id, inbound_at) if inbound_id is not None else None
    sent = [SentRecord(at, intent or "", conv, channel, _answered(entities))
            for *_, at, intent, conv, channel, entities in rows if at is not None]
    return contact, inbound, creditor, debtor_phones, sent


def _answered(entities: list[dict[str, Any]] | None) -> bool:
    """What the outbox stored of the gate's verdict (backend.services.outbox._apply_decision)."""
    stored = next((item["outbound"] for item in entities or [] if "outbound" in item), {})
    return stored.get("initiated") is False


# Statements are built once (with bound parameters) so a gate decision does not pay for
# constructing and cache-keying them again on every message.
_CHANNEL: BindParameter[str] = bindparam("channel")
_ADDRESS: BindParameter[str] = bindparam("address")
_LATEST_INBOUND = (
    select(Message.id, Message.created_at)
    .join(Conversation, Conversation.id == Message.conversation_id)
    .where(Conversation.channel == _CHANNEL, Conversation.address == _ADDRESS,
           Message.direction == Direction.INBOUND)
    .order_by(Message.id.desc()).limit(1)
).subquery()
_OTHER_POINT = aliased(ContactPoint, name="other_point")
# Read at send time, so a contact point created after the opt-out is held too (one more
# index lookup on contact_point.address inside the same statement, no extra round trip).
_SAME_NUMBER_OPT_OUT = (
    select(func.max(_OTHER_POINT.opted_out_at))
    .where(_OTHER_POINT.channel == bindparam("other_channel"),
           _OTHER_POINT.address == _ADDRESS, holds_other_channel(_OTHER_POINT))
    .scalar_subquery()
)
_PHONE_POINT = aliased(ContactPoint, name="phone_point")
# A number someone else answered is not the debtor's: it says nothing about where they are.
_DEBTOR_PHONES = (
    select(func.aggregate_strings(_PHONE_POINT.address, ","))
    .where(_PHONE_POINT.debtor_id == bindparam("debtor_id"),
           _PHONE_POINT.channel.in_(PHONE_CHANNELS), _PHONE_POINT.wrong_party.is_(False))
    .scalar_subquery()
)
_CONTACT_AND_INBOUND = select(
    func.count(ContactPoint.id), func.max(ContactPoint.opted_out_at),
    func.min(case((ContactPoint.consent, 1), else_=0)),
    func.max(case((ContactPoint.wrong_party, 1), else_=0)),
    select(_LATEST_INBOUND.c.id).scalar_subquery(),
    select(_LATEST_INBOUND.c.created_at).scalar_subquery(),
    # The creditor the bot names to the debtor (backend.services.turns): the portfolio's.
    select(Creditor.name).join(Portfolio, Portfolio.creditor_id == Creditor.id)
    .where(Portfolio.id == bindparam("portfolio_id")).scalar_subquery(),
    _SAME_NUMBER_OPT_OUT,
    _DEBTOR_PHONES,
).where(ContactPoint.channel == _CHANNEL, ContactPoint.address == _ADDRESS)
_LONG_LIVED = (Purpose.OPT_OUT_CONFIRMATION.value, Purpose.STOP_ACKNOWLEDGEMENT.value)


@cache
def _outbound_query(
    by_account: bool, by_conversation: bool
) -> Select[datetime, str | None, int, str, Any]:
    """Outbound rows to this address or on this account (every channel), or in this conversation.

    A row's time is when it was sent: an outbound row's `processed_at` (set by the outbox when
    it lets the row go), else its creation (compliance.md A.1 item 2: sending is what counts).
    """
    # The same number on SMS and WhatsApp is one phone; callers filter by channel as needed.
    scope = [Conversation.address == _ADDRESS]
    if by_account:
        scope.append(Conversation.account_id == bindparam("account_id"))
    if by_conversation:
        scope.append(Message.conversation_id == bindparam("conversation_id"))
    since = bindparam("since", type_=UtcDateTime)
    return (
        select(func.coalesce(Message.processed_at, Message.created_at), Message.intent,
               Message.conversation_id, Message.channel, Message.entities)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.direction == Direction.OUTBOUND, Message.delivery_status.in_(COUNTED),
               Message.id != bindparam("exclude_id"), or_(*scope),
               # Sent after it was created, so either time in the window selects the row.
               or_(Message.created_at >= since, Message.processed_at >= since,
                   Message.intent.in_(_LONG_LIVED)))
    )


@cache
def _facts_query(by_account: bool, by_conversation: bool) -> Select[Any]:
    recipient = _CONTACT_AND_INBOUND.subquery("recipient")
    sent = _outbound_query(by_account, by_conversation).subquery("sent")
    return select(recipient, sent).select_from(recipient.outerjoin(sent, true()))
