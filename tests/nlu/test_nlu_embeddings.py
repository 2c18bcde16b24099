"""The dense features: packaged embeddings loaded offline, pooled vectors, small model files."""

from __future__ import annotations

import pickle
import socket

import numpy as np
import pytest

from nlu.embeddings import EmbeddingVectorizer, TokenEmbeddings, shared_embeddings
from nlu.features import FeatureConfig, build_features


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_the_table_loads_from_the_package_without_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the NLU must not open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    embeddings = TokenEmbeddings.from_package()
    assert embeddings.table.dtype == np.float32
    assert embeddings.vector("pago el viernes").shape == (embeddings.dim,)


def test_a_vector_is_the_unit_mean_and_the_unit_max_of_the_tokens():
    embeddings = shared_embeddings()
    ids = embeddings.tokenizer.encode("cant pay till fri", add_special_tokens=False).ids
    tokens = embeddings.table[ids]
    half = embeddings.dim // 2
    vector = embeddings.vector("cant pay till fri")
    mean, top = vector[:half], vector[half:]
    np.testing.assert_allclose(mean, tokens.mean(0) / np.linalg.norm(tokens.mean(0)), rtol=1e-6)
    np.testing.assert_allclose(top, tokens.max(0) / np.linalg.norm(tokens.max(0)), rtol=1e-6)
    assert np.array_equal(vector, embeddings.vector("cant pay till fri"))  # deterministic


def test_text_without_tokens_gives_zeros():
    embeddings = shared_embeddings()
    assert not embeddings.vector("").any()


def test_paraphrases_are_closer_than_unrelated_messages():
    embeddings = shared_embeddings()
    job = embeddings.vector("i lost my job last month")
    assert _cosine(job, embeddings.vector("i got laid off")) > \
        _cosine(job, embeddings.vector("what time does the store open"))


def test_the_vectorizer_is_weighted_sparse_and_pickles_without_the_table():
    vectorizer = EmbeddingVectorizer(weight=0.5).fit(["hola"])
    rows = vectorizer.transform(["hola", "te pago el viernes"])
    assert rows.shape == (2, shared_embeddings().dim)
    expected = shared_embeddings().matrix(["te pago el viernes"])[0] * np.float32(0.5)
    assert np.array_equal(rows.toarray()[1], expected)
    assert len(pickle.dumps(vectorizer)) < 2_000  # the 32 MB table comes from the package


def test_an_unknown_embedding_model_is_refused():
    with pytest.raises(ValueError, match="unknown embedding model"):
        EmbeddingVectorizer(model="something-else").fit(["hi"])


def test_a_zero_weight_leaves_the_dense_block_out():
    names = [name for name, _ in build_features(FeatureConfig(embedding_weight=0)).transformer_list]
    assert names == ["word", "char"]
    assert "embed" in dict(build_features(FeatureConfig()).transformer_list)
