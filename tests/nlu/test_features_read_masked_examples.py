"""The features read a trainer's masked example and the real message it came from alike."""

from pathlib import Path

import pytest

from nlu.classifier import IntentClassifier
from nlu.embeddings import EmbeddingVectorizer
from nlu.features import FeatureConfig, build_features, normalize_for_features
from nlu.masking import mask_pii
from nlu.reader import read_training_data

SHIPPED = Path(__file__).resolve().parents[2] / "nlu" / "training_data"
SISTER = ("my sis Ashley Walker handles my bills, her cell 404-555-0126 email "
          "ashley.w@gmail.com")


def test_phones_and_emails_read_as_their_placeholders():
    masked = mask_pii(SISTER, ["Ashley Walker"]).text
    assert masked == "my sis <name> handles my bills, her cell <phone> email <email>"
    assert normalize_for_features(SISTER.replace("Ashley Walker ", "")) \
        == normalize_for_features(masked.replace("<name> ", ""))
    assert normalize_for_features("llamale al (212) 555-0100 o a +52 55 1234 5678") \
        == normalize_for_features("llamale al <phone> o a <phone>")


def test_a_masked_name_is_left_out_of_every_ngram():
    union = build_features(FeatureConfig(embedding_weight=0)).fit(["my sis handles my bills"])
    for _, vectorizer in union.transformer_list:
        analyze = vectorizer.build_analyzer()
        assert analyze("my sis <name> handles my bills") == analyze("my sis handles my bills")


def test_the_embedding_block_reads_them_alike_too():
    block = EmbeddingVectorizer().fit([])
    real, masked = block.dense_rows([
        "her cell 404-555-0126 email ashley.w@gmail.com",
        "her cell <phone> email <email>",
    ])
    assert (real == masked).all()
    assert (block.dense_rows(["my sis <name> pays"]) == block.dense_rows(["my sis pays"])).all()


@pytest.fixture(scope="module")
def relabelled() -> IntentClassifier:
    """The shipped data plus the trainer's relabel of the sister's message, masked."""
    shipped, problems = read_training_data(SHIPPED)
    assert not problems
    example = mask_pii(SISTER, ["Ashley Walker"]).text
    return IntentClassifier().fit([*shipped.texts, example], [*shipped.labels, "out_of_scope"])


@pytest.mark.parametrize("message", [
    SISTER,
    "my sis Maria Lopez handles my bills, her cell 212-555-0199 email maria.l@yahoo.com",
])
def test_the_trainers_masked_example_teaches_the_real_message(relabelled, message):
    # The live path (fast scorer) and the batch path agree, and both read the real text.
    for scores in (relabelled.predict_one(message), relabelled.predict_proba([message])[0]):
        assert relabelled.labels[int(scores.argmax())] == "out_of_scope"
