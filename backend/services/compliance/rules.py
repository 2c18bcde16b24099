"""The gate's configurable numbers, read from `backend/compliance/rules.yml`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import yaml

DEFAULT_RULES_PATH = Path(__file__).resolve().parents[2] / "compliance" / "rules.yml"


@dataclass(frozen=True)
class ComplianceRules:
    """Quiet hours, reply window, frequency caps (with state overrides), WhatsApp window."""

    quiet_start: time = time(8, 0)
    quiet_end: time = time(21, 0)
    max_phone_zones: int = 3
    reply_window: timedelta = timedelta(minutes=30)
    cap_window: timedelta = timedelta(days=7)
    cap_per_channel: int = 3
    state_caps: dict[str, int] = field(default_factory=dict)
    counted_purposes: frozenset[str] = frozenset({"reminder"})
    whatsapp_window: timedelta = timedelta(hours=24)

    def cap_for(self, regions: tuple[str, ...]) -> int:
        """The strictest cap of every matched jurisdiction (compliance.md B item 41)."""
        caps = [self.state_caps[r] for r in regions if r in self.state_caps]
        return min([self.cap_per_channel, *caps])


def load_rules(path: Path = DEFAULT_RULES_PATH) -> ComplianceRules:
    """Parse a rules file; a missing key keeps its conservative default."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    hours = data.get("quiet_hours", {})
    freq = data.get("frequency", {})
    defaults = ComplianceRules()
    return ComplianceRules(
        quiet_start=time.fromisoformat(hours.get("start", "08:00")),
        quiet_end=time.fromisoformat(hours.get("end", "21:00")),
        max_phone_zones=int(hours.get("max_phone_zones", defaults.max_phone_zones)),
        reply_window=timedelta(minutes=float(data.get("reply_window_minutes", 30))),
        cap_window=timedelta(days=float(freq.get("window_days", 7))),
        cap_per_channel=int(freq.get("per_channel", defaults.cap_per_channel)),
        state_caps={str(k).upper(): int(v) for k, v in (freq.get("states") or {}).items()},
        counted_purposes=frozenset(freq.get("counted_purposes", ["reminder"])),
        whatsapp_window=timedelta(hours=float(data.get("whatsapp", {}).get("window_hours", 24))),
    )
