"""One-message scoring: the feature union + LinearSVC arithmetic without sklearn's per-call cost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from nlu.embeddings import EmbeddingVectorizer

_Row = tuple[NDArray[np.intp], NDArray[np.floating]]


@dataclass(frozen=True)
class _Block:
    """One fitted TfidfVectorizer, flattened to what transforming one text needs."""

    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: NDArray[np.floating] | None
    sublinear_tf: bool
    l2: bool
    dtype: type
    offset: int

    def row(self, text: str) -> _Row | None:
        """Columns and values of `text` in this block, as the vectorizer's transform gives."""
        return _tfidf_row(self, text)


@dataclass(frozen=True)
class _DenseBlock:
    """The embedding block: its values come from the vectorizer itself, zeros left out."""

    vectorizer: EmbeddingVectorizer
    offset: int

    def row(self, text: str) -> _Row | None:
        """The non-zero columns of the pooled embedding, as csr_matrix keeps them."""
        values = self.vectorizer.dense_rows([text])[0]
        columns = np.flatnonzero(values)
        return (columns + self.offset, values[columns]) if columns.size else None


class FastScorer:
    """SVM margins for one text, bit-for-bit the same arithmetic as the sklearn batch path."""

    def __init__(self, blocks: list[_Block | _DenseBlock], weights: NDArray[np.float64],
                 intercept: NDArray[np.float64]) -> None:
        self._blocks = blocks
        self._weights = weights  # (n_features, n_outputs), C-contiguous: one row per feature
        self._intercept = intercept

    @classmethod
    def derive(cls, features: FeatureUnion, svm: LinearSVC) -> FastScorer | None:
        """The fast path for these fitted objects, or None when they hold something unexpected."""
        if features.transformer_weights is not None:
            return None
        blocks: list[_Block | _DenseBlock] = []
        offset = 0
        for _, vectorizer in features.transformer_list:
            if type(vectorizer) is EmbeddingVectorizer:
                blocks.append(_DenseBlock(vectorizer, offset))
                offset += vectorizer.n_features_out_
                continue
            if type(vectorizer) is not TfidfVectorizer or vectorizer.binary \
                    or vectorizer.norm not in ("l2", None) or vectorizer.input != "content":
                return None
            idf = vectorizer.idf_ if vectorizer.use_idf else None
            blocks.append(_Block(vectorizer.build_analyzer(), vectorizer.vocabulary_, idf,
                                 vectorizer.sublinear_tf, vectorizer.norm == "l2",
                                 vectorizer.dtype, offset))
            offset += len(vectorizer.vocabulary_)
        coef = np.asarray(svm.coef_, dtype=np.float64)
        if coef.shape[1] != offset:
            return None
        weights = np.ascontiguousarray(coef.T)  # a view when liblinear left coef_ in F order
        return cls(blocks, weights, np.asarray(svm.intercept_, dtype=np.float64))

    def scores(self, text: str) -> NDArray[np.float64]:
        """Shape (1, n_labels), equal to IntentClassifier._scores on [text]."""
        indices, values = [], []
        for block in self._blocks:
            found = block.row(text)
            if found is not None:
                indices.append(found[0])
                values.append(found[1])
        if indices:
            columns = np.concatenate(indices)
            # scipy upcasts the float32 row and sums feature by feature in column order;
            # a sum over axis 0 of a C-contiguous block adds row after row in the same order.
            data = np.concatenate(values).astype(np.float64)
            raw = (data[:, None] * self._weights[columns]).sum(axis=0) + self._intercept
        else:
            raw = np.zeros(self._weights.shape[1]) + self._intercept
        if raw.shape[0] == 1:  # binary LinearSVC returns one margin; make it two columns
            return np.array([[-raw[0], raw[0]]])
        return raw[None, :]


def _tfidf_row(block: _Block, text: str) -> _Row | None:
    vocabulary = block.vocabulary
    counts: dict[int, int] = {}
    for feature in block.analyze(text):
        index = vocabulary.get(feature)
        if index is not None:
            counts[index] = counts.get(index, 0) + 1
    if not counts:
        return None
    order = sorted(counts)
    columns = np.array(order, dtype=np.intp)
    data: NDArray[np.floating] = np.array([counts[i] for i in order], dtype=block.dtype)
    if block.sublinear_tf:
        np.log(data, data)
        data += 1.0
    if block.idf is not None:
        data *= block.idf[columns]
    if block.l2:
        # sklearn's Cython normalizer: float products, accumulated in double, in order
        total = float(np.cumsum(data * data, dtype=np.float64)[-1])
        if total != 0.0:
            data = (data.astype(np.float64) / np.sqrt(total)).astype(data.dtype)
    return columns + block.offset, data
