"""Optional Rasa backend: asks a Rasa server's /model/parse, falls back to the embedded model."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from nlu.extractors import extract_entities, resolve_overlaps
from nlu.extractors.match import Match
from nlu.extractors.numbers import to_number
from nlu.interpreter import apply_threshold
from nlu.language import language_of
from nlu.types import (
    ENTITY_TYPES,
    INTENTS,
    OUT_OF_SCOPE,
    Entity,
    IntentScore,
    Interpreter,
    Parse,
)

log = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """The Rasa server did not answer usefully."""


class RasaInterpreter:
    """Interprets with a Rasa server; entities are normalized by Parley's extractors."""

    def __init__(
        self, url: str, fallback: Interpreter, *, timeout: float = 2.0,
        threshold: float = 0.5, client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url.rstrip("/") + "/model/parse"
        self.fallback = fallback
        self.threshold = threshold
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def parse(
        self, text: str, *, reference_time: datetime, timezone: str | None = None,
        language: str | None = None,
    ) -> Parse:
        """Rasa's answer mapped to a Parse, or the fallback's when Rasa fails."""
        try:
            answer = await self._ask(text)
        except RasaUnavailable as exc:
            log.warning("rasa backend failed (%s); using the embedded NLU model", exc)
            return await self.fallback.parse(
                text, reference_time=reference_time, timezone=timezone, language=language
            )
        entities = normalize_entities(
            text, answer.get("entities") or [], reference_time, timezone,
            language_of(text) or language,
        )
        return apply_threshold(map_rasa(text, answer, entities), self.threshold)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def _ask(self, text: str) -> dict[str, Any]:
        try:
            response = await self._client.post(self.url, json={"text": text})
            response.raise_for_status()
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(answer, dict) or not isinstance(answer.get("intent"), dict):
            raise RasaUnavailable("answer has no intent")
        return answer


def map_rasa(text: str, answer: dict[str, Any], entities: tuple[Entity, ...]) -> Parse:
    """Rasa's /model/parse JSON to a Parse (intents outside the taxonomy become out_of_scope)."""
    ranking = tuple(
        IntentScore(_known(str(item.get("name"))), float(item.get("confidence") or 0.0))
        for item in answer.get("intent_ranking") or [answer["intent"]]
    )
    top = answer["intent"]
    intent = IntentScore(_known(str(top.get("name"))), float(top.get("confidence") or 0.0))
    return Parse(text, intent, ranking, entities, language_of(text), "rasa",
                 {"backend": "rasa"})


def normalize_entities(
    text: str, raw: list[dict[str, Any]], reference_time: datetime, timezone: str | None,
    language: str | None = None,
) -> tuple[Entity, ...]:
    """Parley's extractors on the text, plus Rasa's spans they missed that they can normalize."""
    ours = extract_entities(
        text, reference_time=reference_time, timezone=timezone, language=language
    )
    extra: list[Match] = []
    for item in raw:
        start, end, kind = item.get("start"), item.get("end"), item.get("entity")
        if kind not in ENTITY_TYPES or not isinstance(start, int) or not isinstance(end, int):
            continue
        found = extract_entities(text[start:end], reference_time=reference_time,
                                 timezone=timezone, language=language)
        same = [Match(e.entity, start + e.start, start + e.end, e.value, e.currency)
                for e in found if e.entity == kind]
        extra.extend(same or _bare_number(kind, text, start, end))
    kept = resolve_overlaps([*(_as_match(e) for e in ours), *extra], text=text)
    return tuple(
        Entity(m.entity, m.value, m.start, m.end, text[m.start:m.end], "parley", m.currency)
        for m in kept
    )


def _bare_number(kind: str, text: str, start: int, end: int) -> list[Match]:
    """Rasa tagged 'fifty' as an amount: trust the tag, normalize the number."""
    value = to_number(text[start:end].strip())
    if value is None or kind not in ("amount", "installments"):
        return []
    shown = f"{value.quantize(Decimal('0.01'))}" if kind == "amount" else str(int(value))
    return [Match(kind, start, end, shown)]


def _as_match(entity: Entity) -> Match:
    return Match(entity.entity, entity.start, entity.end, entity.value, entity.currency)


def _known(name: str) -> str:
    return name if name in INTENTS else OUT_OF_SCOPE
