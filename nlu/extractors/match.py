"""The candidate span every extractor returns, before overlaps are resolved."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Match:
    """A normalized entity candidate at [start, end) of the message."""

    entity: str
    start: int
    end: int
    value: str
    currency: str | None = None

    @property
    def length(self) -> int:
        """Characters covered; longer candidates win overlaps."""
        return self.end - self.start
