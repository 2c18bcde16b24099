"""Street addresses are masked before a message becomes a training example."""

from __future__ import annotations

import pytest

from nlu.masking import mask_pii, placeholders


@pytest.mark.parametrize(("text", "masked"), [
    ("my account at 12 Elm Street Springfield is wrong",
     "my account at <address> Springfield is wrong"),
    ("i live at 4521 N Main St Apt 3B, Dallas", "i live at <address>, Dallas"),
    ("send it to 77 Sunset Blvd.", "send it to <address>"),
    ("500 Oak Ave", "<address>"),
    ("vivo en calle Hidalgo 123 int 4", "vivo en <address>"),
    ("mi casa es Av. Reforma #45", "mi casa es <address>"),
])
def test_a_street_address_is_masked(text: str, masked: str) -> None:
    result = mask_pii(text)
    assert result.text == masked
    assert placeholders(result.text) == ["address"]


@pytest.mark.parametrize("text", [
    "ill pay 50 on the 1 st",
    "i can pay 200 on the 15th",
    "i owe 300 dollars at the st",
    "3 payments of 100",
    "vivo en la calle de atras",
    "123 Main",
])
def test_amounts_dates_and_streets_without_a_number_are_left(text: str) -> None:
    assert mask_pii(text).text == text
