"""The one shared fitting function: numbered choices, splitting and shortening."""

from __future__ import annotations

from bot.channels.base import ChannelLimits
from bot.channels.rendering import render, split_text
from bot.messages import Choice

CHOICES = (Choice("Pay now", "pay"), Choice("Set up a plan", "plan"))


def test_channels_without_buttons_get_numbered_choices() -> None:
    rendered = render("What next?", CHOICES, ChannelLimits(max_chars=160))
    assert rendered.parts == ("What next?\n\n1. Pay now\n2. Set up a plan",)
    assert rendered.buttons == ()


def test_channels_with_buttons_keep_them_when_they_fit() -> None:
    limits = ChannelLimits(max_chars=160, max_buttons=3, button_label_chars=20)
    assert render("What next?", CHOICES, limits).buttons == CHOICES
    too_many = CHOICES * 2
    assert render("What next?", too_many, limits).buttons == ()


def test_long_text_is_split_at_word_boundaries_then_shortened() -> None:
    text = " ".join(f"word{i}" for i in range(100))
    parts = split_text(text, 100, 3)
    assert len(parts) == 3 and all(len(p) <= 100 for p in parts)
    assert parts[-1].endswith("…") and not parts[0].endswith(" ")


def test_the_menu_survives_when_the_body_is_shortened() -> None:
    rendered = render("x " * 200, CHOICES, ChannelLimits(max_chars=80))
    [part] = rendered.parts
    assert len(part) <= 80 and part.endswith("1. Pay now\n2. Set up a plan")


def test_options_the_text_already_numbers_are_not_listed_again() -> None:
    text = ("Here is what I can offer:\n1. Pay now\n2. Set up a plan\n"
            "Reply STOP to stop messages to this number.")
    choices = (*CHOICES, Choice("Talk to a person", "intent:request_agent"))
    [part] = render(text, choices, ChannelLimits(max_chars=1600)).parts
    assert part.count("1. Pay now") == 1 and part.count("2. Set up a plan") == 1
    assert "2. Set up a plan\n3. Talk to a person" in part
    assert part.endswith("Reply STOP to stop messages to this number.")  # the footer stays last


def test_a_shortened_text_gets_the_whole_menu_back() -> None:
    text = "1. Pay now\n2. Set up a plan\n" + "x " * 200
    [part] = render(text, CHOICES, ChannelLimits(max_chars=80)).parts
    assert len(part) <= 80 and part.endswith("1. Pay now\n2. Set up a plan")
