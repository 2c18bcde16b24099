"""A collections strategy as data: segments, ladders of steps, A/B variants, lifecycle settings."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from backend.services.compliance.debt_mentions import Mention, debt_mention, threat_mention
from backend.services.compliance.rules import load_rules
from backend.services.queues import load_queues

Channel = Literal["sms", "whatsapp", "telegram", "web"]
Anchor = Literal[
    "due_date", "promise", "promise_broken", "installment", "installment_missed", "plan_broken"
]
EVENT_ANCHORS: tuple[str, ...] = (
    "promise", "promise_broken", "installment", "installment_missed", "plan_broken"
)
LOCALES = ("en", "es")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_+\-]{0,47}$")
# compliance.md A.3 item 12: an instruction to opt out, not merely the word ("do not stop now").
_KEYWORD = r"[\"“'«]?(?:STOP|STOPALL|END|UNSUBSCRIBE|CANCEL|QUIT|ALTO|BAJA|PARAR|CANCELAR)\b"
OPT_OUT_INSTRUCTION = re.compile(
    r"\b(?:reply|text|send|respond|type|write|answer"
    r"|responda|responde|conteste|contesta|env[ií]e|env[ií]a|escriba|escribe|mande|manda)"
    rf"(?:\s+(?:with|con))?(?:\s+(?:the\s+word|la\s+palabra))?\s+{_KEYWORD}"
    r"|\bSTOP\b\s+(?:to|para)\s+(?:opt[\s-]?out|end|unsubscribe|stop|cancel|quit"
    r"|no\s+recibir|dejar\s+de|darse\s+de\s+baja|cancelar)",
    re.IGNORECASE,
)
PLACEHOLDER = re.compile(r"\{(\w*)\}")


class StrategyError(ValueError):
    """A strategy that cannot be used; the message names the source, the item and the fix."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SendWindow(_Model):
    """Debtor-local hours a step aims for; the compliance gate's quiet hours still apply."""

    start: time = time(10, 0)
    end: time = time(18, 0)

    @model_validator(mode="after")
    def _ordered(self) -> SendWindow:
        if self.end <= self.start:
            raise ValueError("window end must be after its start")
        return self


def _check_templates(templates: dict[str, str], info: ValidationInfo) -> dict[str, str]:
    for locale, text in templates.items():
        if locale not in LOCALES:
            raise ValueError(f"template locale {locale!r} is not one of {list(LOCALES)}")
        if not _context(info).get("stored") and not OPT_OUT_INSTRUCTION.search(text):
            # compliance.md A.3 item 12: every collection message says how to opt out. A saved
            # version was checked when it was loaded; it keeps running as it was accepted.
            raise ValueError(f"template {locale!r} must tell how to opt out, for example "
                             "\"Reply STOP to stop messages here.\" or "
                             "\"Responda STOP para no recibir más mensajes aquí.\"")
        unknown = sorted(set(PLACEHOLDER.findall(text)) - {"link"})
        if unknown:
            # The debtor would read "{amount}" as is: only the link is filled in.
            names = ", ".join("{" + n + "}" for n in unknown)
            raise ValueError(f"template {locale!r} uses {names}; templates only know {{link}}")
    return templates


def _refuse_content(where: str, locale: str, text: str) -> None:
    """A campaign template goes to people not yet verified, and to everyone alike."""
    debt = debt_mention(text)
    if debt is not None:
        # compliance.md A.2 item 9: nothing about the debt before right-party verification.
        raise ValueError(f"{where}: template {locale!r} mentions the debt (the {_named(debt)}); "
                         "before identity is verified a message names no amount, creditor "
                         "or debt (compliance.md A.2 item 9): say it in the conversation")
    threat = threat_mention(text)
    if threat is not None:
        # compliance.md A.4 item 19: no threat of action that is not lawful and intended.
        raise ValueError(f"{where}: template {locale!r} threatens action ({threat.found!r}); "
                         "campaign messages may not (compliance.md A.4 item 19)")


def _named(mention: Mention) -> str:
    return f"{mention.kind.replace('_', ' ')} {mention.found!r}"


class Variant(_Model):
    """An A/B alternative of a step's wording; accounts are split by weight, deterministically."""

    name: str = Field(pattern=SLUG.pattern)
    weight: int = Field(ge=1, le=100)
    template: dict[str, str] = Field(default_factory=dict)
    whatsapp_template: str | None = None

    _templates = field_validator("template")(_check_templates)


class Step(_Model):
    """One rung of a ladder: when (anchor + offset), how (channels in order), what (template)."""

    id: str = Field(pattern=SLUG.pattern)
    anchor: Anchor = "due_date"
    offset_days: int = Field(ge=-60, le=365)
    action: Literal["message", "handoff"] = "message"
    channels: tuple[Channel, ...] = ("sms",)
    template: dict[str, str] = Field(default_factory=dict)
    whatsapp_template: str | None = None
    window: SendWindow = SendWindow()
    variants: tuple[Variant, ...] = ()
    queue: str | None = None
    reason: str = ""

    _templates = field_validator("template")(_check_templates)

    @field_validator("queue")
    @classmethod
    def _known_queue(cls, queue: str | None, info: ValidationInfo) -> str | None:
        known = _context(info).get("queues")
        if queue is not None and known is not None and queue not in known:
            # The handoff service would quietly route it to the default queue instead.
            raise ValueError(f"queue {queue!r} is not a handoff queue; "
                             f"known queues: {', '.join(known)}")
        return queue

    @field_validator("variants")
    @classmethod
    def _split(cls, variants: tuple[Variant, ...]) -> tuple[Variant, ...]:
        if variants and sum(v.weight for v in variants) != 100:
            raise ValueError("variant weights must add up to 100")
        if len({v.name for v in variants}) != len(variants):
            raise ValueError("variant names must be unique within a step")
        return variants

    @model_validator(mode="after")
    def _consistent(self) -> Step:
        if not self.channels:
            raise ValueError("a step needs at least one channel")
        return self

    @model_validator(mode="after")
    def _window_meets_the_allowed_hours(self, info: ValidationInfo) -> Step:
        hours = _context(info).get("allowed_hours")
        if hours is None or self.action != "message":
            return self
        start, end = hours
        if self.window.start < end and start < self.window.end:
            return self
        # The gate would defer it to when it opens, when the window is closed again: re-timed
        # and deferred day after day, it would never send (compliance.md A.1 item 1).
        raise ValueError(f"step {self.id!r}: window {self.window.start:%H:%M}-"
                         f"{self.window.end:%H:%M} lies wholly in quiet hours; the compliance "
                         f"gate allows {start:%H:%M}-{end:%H:%M} debtor-local (compliance.md "
                         "A.1 item 1), so the step would never send: move the window into them")

    @model_validator(mode="after")
    def _says_nothing_of_the_debt(self, info: ValidationInfo) -> Step:
        if _context(info).get("stored"):
            return self  # checked when it was loaded; the gate still reads every send
        wordings = [(f"step {self.id!r}", self.template)] + [
            (f"step {self.id!r} variant {v.name!r}", v.template) for v in self.variants]
        for where, templates in wordings:
            for locale, text in templates.items():
                _refuse_content(where, locale, text)
        return self

    def variant(self, name: str | None) -> Variant | None:
        """The variant called `name`, if any."""
        return next((v for v in self.variants if v.name == name), None)


class Segment(_Model):
    """Which accounts a ladder applies to; every criterion left out matches everything."""

    name: str = Field(pattern=SLUG.pattern)
    min_days_past_due: int | None = None
    max_days_past_due: int | None = None
    min_balance: Decimal | None = None
    max_balance: Decimal | None = None
    portfolios: tuple[str, ...] = ()
    min_risk: int | None = None
    max_risk: int | None = None
    languages: tuple[str, ...] = ()
    channels: tuple[Channel, ...] = ()
    steps: tuple[Step, ...] = ()

    @model_validator(mode="after")
    def _ranges(self, info: ValidationInfo) -> Segment:
        if _context(info).get("stored"):
            return self
        crossed = [
            f"{low} ({getattr(self, low)}) is above {high} ({getattr(self, high)})"
            for low, high in (("min_days_past_due", "max_days_past_due"),
                              ("min_balance", "max_balance"), ("min_risk", "max_risk"))
            if getattr(self, low) is not None and getattr(self, high) is not None
            and getattr(self, low) > getattr(self, high)
        ]
        if crossed:
            raise ValueError(f"{'; '.join(crossed)}: the segment would match no account")
        return self

    @model_validator(mode="after")
    def _steps_on_due_date(self) -> Segment:
        for step in self.steps:
            if step.anchor != "due_date":
                raise ValueError(f"step {step.id!r}: segment ladders run on the due date; "
                                 "put event steps under `events:`")
        return self


class Lifecycle(_Model):
    """How promises and plans are judged, and when the ladder gives way to a conversation."""

    promise_grace_days: int = Field(default=1, ge=0, le=30)
    installment_grace_days: int = Field(default=3, ge=0, le=30)
    max_missed_installments: int = Field(default=2, ge=1, le=12)
    reply_pause_hours: int = Field(default=72, ge=0, le=24 * 60)
    catch_up_days: int = Field(default=2, ge=0, le=14)


class StrategyDefinition(_Model):
    """A whole strategy: ordered segments (first match wins) and event steps for all of them."""

    name: str = Field(pattern=SLUG.pattern)
    description: str = ""
    segments: tuple[Segment, ...]
    events: tuple[Step, ...] = ()
    lifecycle: Lifecycle = Lifecycle()

    @field_validator("segments")
    @classmethod
    def _some_segments(cls, segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
        # Not Field(min_length=1): that also fires when a segment is invalid, with a false
        # "should have at least 1 item" beside the real error.
        if not segments:
            raise ValueError("a strategy needs at least one segment")
        return segments

    @model_validator(mode="after")
    def _unique_ids(self) -> StrategyDefinition:
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names):
            raise ValueError("segment names must be unique")
        for step in self.events:
            if step.anchor == "due_date":
                raise ValueError(f"event step {step.id!r} needs an event anchor "
                                 f"(one of {list(EVENT_ANCHORS)})")
        ids = [s.id for s in self.all_steps()]
        if len(set(ids)) != len(ids):
            raise ValueError("step ids must be unique across the strategy")
        return self

    def all_steps(self) -> list[Step]:
        """Every step: the segment ladders, then the event steps."""
        return [step for seg in self.segments for step in seg.steps] + list(self.events)

    def step(self, step_id: str) -> Step | None:
        """The step with id `step_id`."""
        return next((s for s in self.all_steps() if s.id == step_id), None)


def _allowed_hours() -> tuple[time, time]:
    """The debtor-local hours the compliance gate lets a campaign message go."""
    rules = load_rules()
    return rules.quiet_start, rules.quiet_end


def _context(info: ValidationInfo) -> dict[str, Any]:
    return info.context if isinstance(info.context, dict) else {}


def parse_strategy(data: Any, source: str = "strategy", *,
                   queues: Collection[str] | None = None, stored: bool = False
                   ) -> StrategyDefinition:
    """Validate parsed YAML/JSON; every problem is reported with its place in the source.

    A handoff step must name one of `queues` (default: the configured handoff queues).
    `stored` reads back a version already saved: the checks a load adds (queue names, segment
    ranges, windows inside the gate's hours) are skipped, so a live strategy keeps running
    when the queues or compliance rules file changes.
    """
    context: dict[str, Any] = {"stored": True} if stored else {
        "queues": tuple(queues) if queues is not None else load_queues().names,
        "allowed_hours": _allowed_hours()}
    try:
        return StrategyDefinition.model_validate(data, context=context)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {_message(err)}"
            for err in exc.errors()
        )
        raise StrategyError(f"{source}: {problems}") from exc


def _message(err: Any) -> str:
    """Our own checks' text without pydantic's "Value error, " in front."""
    error = err.get("ctx", {}).get("error") if err["type"] == "value_error" else None
    return str(error) if error is not None else str(err["msg"])


def parse_strategy_text(text: str, source: str = "strategy", *,
                        queues: Collection[str] | None = None) -> StrategyDefinition:
    """Parse a YAML document into a strategy."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise StrategyError(f"{source}: not valid YAML ({exc})") from exc
    return parse_strategy(data, source, queues=queues)


def load_strategy_file(path: Path, *, queues: Collection[str] | None = None
                       ) -> StrategyDefinition:
    """Read and validate a strategy YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise StrategyError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    return parse_strategy_text(text, str(path), queues=queues)


DEFAULT_STRATEGY_PATH = Path(__file__).resolve().parent.parent / "strategies" / "default.yml"
