"""The embedded Interpreter: the trained classifier plus Parley's rule-based extractors."""

from __future__ import annotations

from datetime import datetime

from nlu.extractors import extract_entities
from nlu.language import language_of
from nlu.model import NluModel
from nlu.types import OUT_OF_SCOPE, IntentScore, Parse

RANKING_SIZE = 10


class EmbeddedInterpreter:
    """Parses messages in-process, on the CPU, with no network."""

    def __init__(self, model: NluModel, threshold: float = 0.5) -> None:
        self.model = model
        self.threshold = threshold

    async def parse(
        self, text: str, *, reference_time: datetime, timezone: str | None = None,
        language: str | None = None,
    ) -> Parse:
        """Interpret `text`; relative dates resolve against `reference_time` in `timezone`."""
        return self.parse_sync(
            text, reference_time=reference_time, timezone=timezone, language=language
        )

    def parse_sync(
        self, text: str, *, reference_time: datetime, timezone: str | None = None,
        language: str | None = None,
    ) -> Parse:
        """The same as `parse`, for the CLI and benchmarks (about a millisecond of CPU)."""
        model = self.model  # one model for the whole parse, even if another is swapped in
        own = language_of(text)
        ranking = self.rank(text, model)
        entities = extract_entities(
            text, reference_time=reference_time, timezone=timezone,
            language=own or language or "en",
        )
        return apply_threshold(
            Parse(text, ranking[0], ranking, entities, own, model.version),
            self.threshold,
        )

    def rank(self, text: str, model: NluModel | None = None) -> tuple[IntentScore, ...]:
        """The top intents with their calibrated confidences, best first."""
        model = model or self.model
        probs = model.classifier.predict_one(text)
        order = probs.argsort()[::-1][:RANKING_SIZE]
        labels = model.classifier.labels
        return tuple(IntentScore(labels[i], round(float(probs[i]), 6)) for i in order)


def apply_threshold(parse: Parse, threshold: float) -> Parse:
    """Below `threshold`, the intent becomes out_of_scope, flagged low-confidence."""
    if parse.intent.confidence >= threshold or parse.intent.name == OUT_OF_SCOPE:
        return parse
    return Parse(
        parse.text, IntentScore(OUT_OF_SCOPE, parse.intent.confidence), parse.ranking,
        parse.entities, parse.language, parse.model_version,
        {**parse.extra, "low_confidence": True, "predicted_intent": parse.intent.name},
    )
