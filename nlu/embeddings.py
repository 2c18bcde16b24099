"""Dense features: mean and max of WordLlama token embeddings, read from the installed package."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from sklearn.base import BaseEstimator, TransformerMixin

from nlu.masking import alike_when_parsed

# WordLlama's wheel carries these two files; its own loader looks for the tokenizer in a
# folder the wheel does not have and then downloads it, so Parley opens both files itself.
_WEIGHTS = "weights/l2_supercat_256.safetensors"
_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
MODEL_NAME = "wordllama-l2-supercat-256"


class TokenEmbeddings:
    """A tokenizer and its token-embedding table; `vector` pools one text into 2 × dim floats."""

    def __init__(self, table: NDArray[np.float32], tokenizer: Any) -> None:
        self.table = table
        self.tokenizer = tokenizer
        self.dim = 2 * table.shape[1]

    @classmethod
    def from_package(cls) -> TokenEmbeddings:
        """Load the embeddings shipped inside the `wordllama` package; never downloads."""
        try:
            import wordllama
            from safetensors import safe_open
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - a dependency of Parley
            raise RuntimeError("the NLU embeddings need the `wordllama` package") from exc
        root = Path(wordllama.__file__).parent
        missing = [name for name in (_WEIGHTS, _TOKENIZER) if not (root / name).is_file()]
        if missing:
            raise RuntimeError(f"wordllama {root} lacks {', '.join(missing)}")
        with safe_open(str(root / _WEIGHTS), framework="np", device="cpu") as weights:
            table = np.ascontiguousarray(weights.get_tensor("embedding.weight"), np.float32)
        tokenizer = Tokenizer.from_file(str(root / _TOKENIZER))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        return cls(table, tokenizer)

    def vector(self, text: str) -> NDArray[np.float32]:
        """Mean and max of the text's token embeddings, each scaled to unit length."""
        ids = self.tokenizer.encode(text, add_special_tokens=False).ids
        if not ids:
            return np.zeros(self.dim, dtype=np.float32)
        tokens = self.table[ids]
        return np.concatenate([_unit(tokens.mean(axis=0)), _unit(tokens.max(axis=0))])

    def matrix(self, texts: list[str]) -> NDArray[np.float32]:
        """One `vector` per text, stacked."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self.vector(text)
        return out


def _unit(vector: NDArray[np.float32]) -> NDArray[np.float32]:
    norm = float(np.linalg.norm(vector))
    return vector / np.float32(norm) if norm > 0.0 else vector


_shared: TokenEmbeddings | None = None
_shared_lock = threading.Lock()


def shared_embeddings() -> TokenEmbeddings:
    """One table per process, however many models (live, candidate, held-out twin) use it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = TokenEmbeddings.from_package()
        return _shared


class EmbeddingVectorizer(TransformerMixin, BaseEstimator):
    """A scikit-learn transformer of texts into `weight` × pooled embeddings, as a sparse row.

    Sparse output lets it sit in the same FeatureUnion as the TF-IDF blocks; the table is not
    pickled with a model (it comes from the package), only the weight and the model name.
    """

    def __init__(self, weight: float = 0.75, model: str = MODEL_NAME) -> None:
        self.weight = weight
        self.model = model

    def fit(self, texts: list[str], y: Any = None) -> EmbeddingVectorizer:
        """Nothing is learnt; records the output width."""
        if self.model != MODEL_NAME:
            raise ValueError(f"unknown embedding model {self.model!r}; Parley ships {MODEL_NAME}")
        self.n_features_out_ = shared_embeddings().dim
        return self

    def transform(self, texts: list[str]) -> csr_matrix:
        """`weight` × `TokenEmbeddings.matrix(texts)`, zeros left out."""
        return csr_matrix(self.dense_rows(texts))

    def dense_rows(self, texts: list[str]) -> NDArray[np.float32]:
        """The same values as `transform`, as a dense array."""
        alike = [alike_when_parsed(text) for text in texts]  # as the n-gram blocks read them
        return shared_embeddings().matrix(alike) * np.float32(self.weight)

    def get_feature_names_out(self, input_features: Any = None) -> NDArray[np.str_]:
        """`embed0` … `embedN`, for FeatureUnion's feature names."""
        return np.array([f"embed{i}" for i in range(shared_embeddings().dim)])
