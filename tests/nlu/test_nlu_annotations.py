"""Annotation parser: plain and JSON forms, spans, and errors with fixes."""

import pytest

from nlu.annotations import Annotation, AnnotationError, parse_annotated


@pytest.mark.parametrize(
    ("raw", "text", "annotations"),
    [
        ("no entities here", "no entities here", ()),
        ("i can pay [$50](amount) now", "i can pay $50 now",
         (Annotation("amount", 10, 13, "$50"),)),
        ('[fifty]{"entity": "amount", "value": "50.00"} on [fri](date)', "fifty on fri",
         (Annotation("amount", 0, 5, "fifty", "50.00"), Annotation("date", 9, 12, "fri"))),
        ("[cada mes](frequency:monthly)", "cada mes",
         (Annotation("frequency", 0, 8, "cada mes", "monthly"),)),
        ("pago [mañana](date) 😅", "pago mañana 😅", (Annotation("date", 5, 11, "mañana"),)),
    ],
)
def test_parses_annotations(raw, text, annotations):
    parsed = parse_annotated(raw)
    assert parsed.text == text
    assert parsed.annotations == annotations
    for a in parsed.annotations:
        assert parsed.text[a.start:a.end] == a.text


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("pay [50 now", "unbalanced"),
        ("pay [50] now", "unbalanced"),
        ("pay [](amount)", "empty annotated text"),
        ("pay [ 50](amount)", "space"),
        ("pay [50]{'entity': 'amount'}", "invalid JSON"),
        ('pay [50]{"value": "50"}', "no \"entity\""),
        ('pay [50]{"entity": "amount", "colour": "red"}', "unknown key"),
        ("pay [50](am ount)", "invalid entity name"),
    ],
)
def test_rejects_broken_annotations_with_a_fix(raw, needle):
    with pytest.raises(AnnotationError) as caught:
        parse_annotated(raw)
    assert needle in str(caught.value)
    assert caught.value.fix
