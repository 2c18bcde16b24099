"""PII masking of debtor text before it becomes a training example."""

import pytest

from nlu.masking import mask_pii


@pytest.mark.parametrize(("text", "masked", "kinds"), [
    ("call me at (212) 555-0100 tomorrow", "call me at <phone> tomorrow", ["phone"]),
    ("my number is +1 212 555 0100", "my number is <phone>", ["phone"]),
    ("text +447911123456 instead", "text <phone> instead", ["phone"]),
    ("or 555-0100 after 5", "or <phone> after 5", ["phone"]),
    ("email me at ana.ruiz+bills@example.co.uk please", "email me at <email> please", ["email"]),
    ("account 123456789 is wrong", "account <number> is wrong", ["number"]),
    ("card 4111 1111 1111 1111", "card <number>", ["number"]),
    ("ssn 123-45-6789", "ssn <number>", ["number"]),
])
def test_contact_details_and_long_numbers_become_placeholders(text, masked, kinds):
    result = mask_pii(text)
    assert result.text == masked
    assert result.kinds == kinds
    assert result.original == text


@pytest.mark.parametrize("text", [
    "I can pay $50 on the 15th", "pay 1500 dollars by 12/15", "3 payments of 200",
    "te pago 2000 el viernes", "due 2026-12-15",
])
def test_amounts_and_dates_stay_for_the_entities(text):
    assert mask_pii(text).text == text


def test_the_debtors_name_whole_or_in_parts_any_case():
    result = mask_pii("this is ANA RUIZ, ana pays; Ruiz family; Anabel is my sister",
                      ["Ana Ruiz"])
    assert result.text == "this is <name>, <name> pays; <name> family; Anabel is my sister"
    assert result.kinds == ["name", "name", "name"]


def test_placeholders_are_stable_when_masked_again():
    once = mask_pii("Ana at 212-555-0100 or ana@example.com", ["Ana"]).text
    assert mask_pii(once, ["Ana"]).text == once == "<name> at <phone> or <email>"
