"""A debtor's name is masked however it is typed: with or without accents, hyphenated or not."""

import pytest

from nlu.masking import mask_pii


@pytest.mark.parametrize(("text", "name", "masked"), [
    ("soy Carmen García y quiero saber cuanto debo", "Carmen Garcia",
     "soy <name> y quiero saber cuanto debo"),
    ("soy Carmen Garcia y quiero saber", "Carmen García", "soy <name> y quiero saber"),
    ("GARCÍA aqui", "Carmen Garcia", "<name> aqui"),
    ("soy Maria Fernanda y quiero saber", "María-Fernanda Ibáñez", "soy <name> y quiero saber"),
    ("soy maría-fernanda ibanez", "Maria Fernanda Ibáñez", "soy <name>"),
    ("habla Ibañez", "María-Fernanda Ibáñez", "habla <name>"),
    ("es José", "Jose Luis Peña", "es <name>"),
])
def test_names_match_across_accents_and_hyphens(text, name, masked):
    assert mask_pii(text, [name]).text == masked


def test_joining_words_and_other_words_are_not_names():
    masked = mask_pii("soy de la casa de María, la de la Cruz; Anamaría es otra",
                      ["María de la Cruz"])
    assert masked.text == "soy de la casa de <name>, la de la <name>; Anamaría es otra"
    assert mask_pii("Carmen Garcíaz no", ["Carmen Garcia"]).text == "<name> Garcíaz no"


def test_spans_are_those_of_the_text_as_typed():
    text = "hola, soy María Garcia-Lopez"
    masked = mask_pii(text, ["Maria García López"])
    assert masked.text == "hola, soy <name>"
    assert masked.replaced == ((10, len(text), "name"),)
