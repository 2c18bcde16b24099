"""The gate's configurable numbers, read from `backend/compliance/rules.yml`."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

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


class RulesError(ValueError):
    """A rules file that cannot be used, every problem as `<file>: <field>: <reason>`."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("; ".join(f"{source}: {problem}" for problem in problems))


def _clock_time(value: Any) -> time:
    # Unquoted, YAML reads 8:00 as the number 480: only a quoted "HH:MM" is a time here.
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return time.fromisoformat(value.strip())
    raise ValueError('must be a quoted 24-hour "HH:MM" time, like "08:00"')


def _cap_spec(value: Any) -> Any:
    return {"cap": value} if not isinstance(value, dict) else value


def _digits(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


ClockTime = Annotated[time, BeforeValidator(_clock_time)]
Count = Annotated[StrictInt, Field(ge=1)]
Span = Annotated[StrictFloat, Field(gt=0)]
Scope = Literal["channel", "all_channels"]
Digits = Annotated[StrictStr, BeforeValidator(_digits)]


class _Section(BaseModel):
    # A misspelt key would otherwise be ignored and its conservative default used unseen.
    model_config = ConfigDict(extra="forbid")


class _QuietHours(_Section):
    start: ClockTime = time(8, 0)
    end: ClockTime = time(21, 0)
    max_phone_zones: Count = 3


class _CapSpec(_Section):
    cap: Count
    scope: Scope | None = None


CapSpec = Annotated[_CapSpec, BeforeValidator(_cap_spec)]


class _Frequency(_Section):
    window_days: Span = 7.0
    per_channel: Count = 3
    scope: Scope = "channel"
    counted_purposes: list[StrictStr] = ["reminder", "agent"]
    states: dict[str, CapSpec] = {}
    places: dict[str, CapSpec] = {}


class _WrittenConsent(_Section):
    places: list[StrictStr] = []
    channels: list[StrictStr] = []


class _WhatsApp(_Section):
    window_hours: Span = 24.0


class _PlaceSpec(_Section):
    state: StrictStr
    cities: list[StrictStr] = []
    zip_prefixes: list[Annotated[Digits, Field(pattern=r"^[0-9]{3}$")]] = []
    zips: list[Digits] = []


class _RulesFile(_Section):
    quiet_hours: _QuietHours = _QuietHours()
    reply_window_minutes: Span = 30.0
    frequency: _Frequency = _Frequency()
    written_consent: _WrittenConsent = _WrittenConsent()
    whatsapp: _WhatsApp = _WhatsApp()
    places: dict[str, _PlaceSpec] = {}


def load_rules(path: Path = DEFAULT_RULES_PATH) -> ComplianceRules:
    """Parse a rules file strictly: a missing key keeps its conservative default, a wrong or
    unknown one is a RulesError naming the file and the field."""
    spec = _read(path)
    scope = spec.frequency.scope
    places = {k.upper(): _place(v) for k, v in spec.places.items()}
    return ComplianceRules(
        quiet_start=spec.quiet_hours.start,
        quiet_end=spec.quiet_hours.end,
        max_phone_zones=spec.quiet_hours.max_phone_zones,
        reply_window=timedelta(minutes=spec.reply_window_minutes),
        cap_window=timedelta(days=spec.frequency.window_days),
        cap_per_channel=spec.frequency.per_channel,
        cap_scope=scope,
        state_caps={k.upper(): _cap(k.upper(), v, scope) for k, v in spec.frequency.states.items()},
        places=places,
        place_caps={k.upper(): _cap(k.upper(), v, scope) for k, v in spec.frequency.places.items()},
        counted_purposes=frozenset(spec.frequency.counted_purposes),
        whatsapp_window=timedelta(hours=spec.whatsapp.window_hours),
        **_written_consent(spec.written_consent, places, str(path)),
    )


def _read(path: Path) -> _RulesFile:
    """The file's YAML, validated; every problem in one RulesError."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(top)"
        raise RulesError(str(path), [f"{where}: not valid YAML: "
                                     f"{getattr(exc, 'problem', None) or exc}"]) from None
    except OSError as exc:
        raise RulesError(str(path), [f"(file): cannot read: {exc.strerror}"]) from None
    if not isinstance(data, dict | None):
        raise RulesError(str(path), ["(top): must be a mapping of sections"])
    try:
        return _RulesFile.model_validate(data or {})
    except ValidationError as exc:
        raise RulesError(str(path), _problems(exc)) from None


def _problems(error: ValidationError) -> list[str]:
    """`frequency.per_channel: Input should be a valid integer`, one per error."""
    return [f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {_reason(e)}"
            for e in error.errors(include_url=False, include_input=False)]


def _reason(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key (misspelt?)"
    return str(error["msg"]).removeprefix("Value error, ")


def _written_consent(spec: _WrittenConsent, places: dict[str, Place],
                     source: str) -> dict[str, Any]:
    """`{places: [NYC], channels: [sms, ...]}`; a place must be one `places:` defines."""
    named = frozenset(p.upper() for p in spec.places)
    unknown = sorted(named - places.keys())
    if unknown:
        raise RulesError(source, [f"written_consent.places: names places not defined under "
                                  f"places: {unknown}"])
    return {"written_consent_places": named,
            "written_consent_channels": frozenset(spec.channels)}


def _cap(state: str, spec: _CapSpec, default_scope: str) -> Cap:
    """`MA: 2` (the default scope) or `MA: {cap: 2, scope: all_channels}`."""
    return Cap(spec.cap, spec.scope or default_scope, state)


def _place(spec: _PlaceSpec) -> Place:
    """`{state: NY, cities: [...], zip_prefixes: ["100", ...], zips: ["11004", ...]}`."""
    return Place(
        state=spec.state.upper(),
        cities=frozenset(" ".join(c.split()).casefold() for c in spec.cities),
        zip_prefixes=tuple(spec.zip_prefixes),
        zips=frozenset(spec.zips),
    )
