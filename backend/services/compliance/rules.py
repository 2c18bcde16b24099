"""The gate's configurable numbers, read from `backend/compliance/rules.yml`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import yaml

DEFAULT_RULES_PATH = Path(__file__).resolve().parents[2] / "compliance" / "rules.yml"
CHANNEL, ALL_CHANNELS = "channel", "all_channels"


@dataclass(frozen=True)
class Cap:
    """At most `limit` counted messages per window: on the message's channel, or on all."""

    limit: int
    scope: str = CHANNEL
    source: str = "policy"  # the policy, or the state whose rule it is

    @property
    def across_channels(self) -> bool:
        """True when every channel's messages count together."""
        return self.scope == ALL_CHANNELS


@dataclass(frozen=True)
class Place:
    """A jurisdiction smaller than a state, matched from the debtor's address."""

    state: str
    cities: frozenset[str] = frozenset()  # casefolded city names, with `state`
    zip_prefixes: tuple[str, ...] = ()  # the first three digits of a 5-digit US ZIP
    zips: frozenset[str] = frozenset()  # single ZIPs of a prefix shared with places outside

    def matches(self, postal_code: str | None, region: str | None, country: str | None,
                city: str | None = None) -> bool:
        """True when the address is in this place (a US ZIP of it, or its city in its state)."""
        if country and country.upper() != "US":
            return False  # a five-digit postal code abroad (Berlin's 10115) is no US ZIP
        zip5 = (postal_code or "").strip()[:5]
        if len(zip5) == 5 and zip5.isdigit() and (zip5 in self.zips
                                                  or zip5[:3] in self.zip_prefixes):
            return True
        in_state = (region or "").strip().upper() == self.state
        return in_state and " ".join((city or "").split()).casefold() in self.cities


@dataclass(frozen=True)
class ComplianceRules:
    """Quiet hours, reply window, frequency caps (with state overrides), WhatsApp window."""

    quiet_start: time = time(8, 0)
    quiet_end: time = time(21, 0)
    max_phone_zones: int = 3
    reply_window: timedelta = timedelta(minutes=30)
    cap_window: timedelta = timedelta(days=7)
    cap_per_channel: int = 3  # the policy cap, counted in `cap_scope`
    cap_scope: str = CHANNEL
    state_caps: dict[str, Cap] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)
    place_caps: dict[str, Cap] = field(default_factory=dict)
    counted_purposes: frozenset[str] = frozenset({"reminder", "agent"})
    whatsapp_window: timedelta = timedelta(hours=24)
    written_consent_places: frozenset[str] = frozenset()
    written_consent_channels: frozenset[str] = frozenset()

    def needs_written_consent(self, channel: str, regions: tuple[str, ...]) -> bool:
        """True when outreach on `channel` to someone in `regions` needs written consent."""
        return channel in self.written_consent_channels and any(
            r in self.written_consent_places for r in regions)

    def caps_for(self, regions: tuple[str, ...]) -> tuple[Cap, ...]:
        """The policy cap and every matched state's and place's: all apply (B item 41)."""
        policy = Cap(self.cap_per_channel, self.cap_scope)
        matched = (self.state_caps.get(r) or self.place_caps.get(r) for r in regions)
        return (policy, *(cap for cap in matched if cap is not None))

    def places_of(self, postal_code: str | None, region: str | None, country: str | None,
                  city: str | None = None) -> tuple[str, ...]:
        """The configured places (e.g. "NYC") the address is in."""
        return tuple(name for name, place in self.places.items()
                     if place.matches(postal_code, region, country, city))


def load_rules(path: Path = DEFAULT_RULES_PATH) -> ComplianceRules:
    """Parse a rules file; a missing key keeps its conservative default."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    hours = data.get("quiet_hours", {})
    freq = data.get("frequency", {})
    defaults = ComplianceRules()
    scope = _scope(freq.get("scope", defaults.cap_scope))
    places = {str(k).upper(): _place(v) for k, v in (data.get("places") or {}).items()}
    return ComplianceRules(
        quiet_start=time.fromisoformat(hours.get("start", "08:00")),
        quiet_end=time.fromisoformat(hours.get("end", "21:00")),
        max_phone_zones=int(hours.get("max_phone_zones", defaults.max_phone_zones)),
        reply_window=timedelta(minutes=float(data.get("reply_window_minutes", 30))),
        cap_window=timedelta(days=float(freq.get("window_days", 7))),
        cap_per_channel=int(freq.get("per_channel", defaults.cap_per_channel)),
        cap_scope=scope,
        state_caps={str(k).upper(): _state_cap(str(k).upper(), v, scope)
                    for k, v in (freq.get("states") or {}).items()},
        places=places,
        place_caps={str(k).upper(): _state_cap(str(k).upper(), v, scope)
                    for k, v in (freq.get("places") or {}).items()},
        counted_purposes=frozenset(freq.get("counted_purposes", defaults.counted_purposes)),
        whatsapp_window=timedelta(hours=float(data.get("whatsapp", {}).get("window_hours", 24))),
        **_written_consent(data.get("written_consent") or {}, places),
    )


def _written_consent(value: dict[str, Any], places: dict[str, Place]) -> dict[str, Any]:
    """`{places: [NYC], channels: [sms, ...]}`; a place must be one `places:` defines."""
    named = frozenset(str(p).upper() for p in value.get("places") or ())
    unknown = sorted(named - places.keys())
    if unknown:
        raise ValueError(f"written_consent names places not defined under places: {unknown}")
    return {"written_consent_places": named,
            "written_consent_channels": frozenset(str(c) for c in value.get("channels") or ())}


def _state_cap(state: str, value: Any, default_scope: str) -> Cap:
    """`MA: 2` (the default scope) or `MA: {cap: 2, scope: all_channels}`."""
    if isinstance(value, dict):
        return Cap(int(value["cap"]), _scope(value.get("scope", default_scope)), state)
    return Cap(int(value), default_scope, state)


def _place(value: dict[str, Any]) -> Place:
    """`{state: NY, cities: [...], zip_prefixes: ["100", ...], zips: ["11004", ...]}`."""
    prefixes = tuple(str(p) for p in value.get("zip_prefixes") or ())
    if any(len(p) != 3 or not p.isdigit() for p in prefixes):
        raise ValueError(f"zip_prefixes must be three digits each, not {prefixes!r}")
    return Place(
        state=str(value["state"]).upper(),
        cities=frozenset(" ".join(str(c).split()).casefold() for c in value.get("cities") or ()),
        zip_prefixes=prefixes,
        zips=frozenset(str(z) for z in value.get("zips") or ()),
    )


def _scope(value: str) -> str:
    if value not in (CHANNEL, ALL_CHANNELS):
        raise ValueError(f"frequency scope must be {CHANNEL} or {ALL_CHANNELS}, not {value!r}")
    return value
