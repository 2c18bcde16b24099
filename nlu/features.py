"""Text features for the intent classifier: TF-IDF n-grams plus pooled token embeddings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from nlu.embeddings import EmbeddingVectorizer
from nlu.extractors.numbers import strip_accents
from nlu.masking import alike_when_parsed

_DIGIT = re.compile(r"\d")
_REPEAT = re.compile(r"(\w)\1{2,}")


@dataclass(frozen=True)
class FeatureConfig:
    """N-gram ranges and filters of the sparse features."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    min_df: int = 1
    max_features: int | None = None
    # Scale of the dense block next to the unit-length TF-IDF blocks; 0 leaves it out.
    # 0.75 measured best on the debtor data (CV and held-out set; docs/BENCHMARKS.md).
    embedding_weight: float = 0.75


def normalize_for_features(text: str) -> str:
    """Mask emails and phone numbers, drop masked names, lower-case, drop accents, map digits
    to 0 and squeeze 'sooooo' to 'soo'.

    Trainers' examples are masked (`nlu.masking`); the messages parsed are not. Both read
    the same here: a phone number is `<phone>` in either, and a name, which cannot be known
    when parsing, is left out of the example so the rest of the sentence carries it."""
    plain = strip_accents(alike_when_parsed(text).lower())
    return _REPEAT.sub(r"\1\1", _DIGIT.sub("0", plain))


def build_features(config: FeatureConfig) -> FeatureUnion:
    """A fresh, unfitted union: word and char TF-IDF, and the embeddings when weighted."""
    common = {"preprocessor": normalize_for_features, "sublinear_tf": True,
              "min_df": config.min_df, "max_features": config.max_features,
              "dtype": _float32()}
    blocks: list[tuple[str, Any]] = [
        ("word", TfidfVectorizer(analyzer="word", ngram_range=config.word_ngrams,
                                 token_pattern=r"(?u)\b\w+\b|[^\w\s]", **common)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=config.char_ngrams, **common)),
    ]
    if config.embedding_weight > 0:
        blocks.append(("embed", EmbeddingVectorizer(weight=config.embedding_weight)))
    return FeatureUnion(blocks)


def _float32() -> type:
    import numpy as np

    return np.float32
