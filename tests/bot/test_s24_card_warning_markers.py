"""The notice that card data was deleted: the markers, its words, when the router says it."""

from __future__ import annotations

import pytest

from backend.services.compliance import card_data
from backend.services.compliance.debt_mentions import debt_mention
from bot.dialogs import card_warning
from bot.messages import Purpose
from bot.responses.catalog import Catalog
from tests.bot.helpers import Transcript, keys, make_facts, texts

CARD = card_data.MARKERS["card_number"]
NOTICE = {
    "en": "For your security, please don't send card numbers, security codes or Social Security "
    "numbers by message. We deleted what you sent.",
    "es": "Por su seguridad, no envíe números de tarjeta, códigos de seguridad ni números de "
    "Seguro Social por mensaje. Hemos eliminado lo que nos envió.",
}


def test_the_bot_reads_the_markers_the_inbox_writes() -> None:
    assert tuple(card_data.MARKERS.values()) == card_warning.MARKERS


@pytest.mark.parametrize("locale", ["en", "es"])
def test_the_notice_names_no_debt(locale: str) -> None:
    text = Catalog().text(card_warning.NOTICE, locale)
    assert text == NOTICE[locale]
    assert debt_mention(text, ("Acme Bank", "ACME-000123456")) is None


@pytest.mark.parametrize("marker", card_data.MARKERS.values())
def test_the_notice_comes_first_before_verification(marker: str) -> None:
    t = Transcript(make_facts())
    out = t.says(f"hi, here you go {marker}", "greet")
    assert keys(out) == [card_warning.NOTICE, "identity.ask.date_of_birth"]
    assert not out.said[0].debt and out.said[0].purpose == Purpose.REPLY


@pytest.mark.parametrize("locale", ["en", "es"])
def test_the_notice_comes_first_once_verified(locale: str) -> None:
    t = Transcript(make_facts())
    t.verify()
    out = t.says(f"pay with my card {CARD}", "pay_in_full")
    assert keys(out) == [card_warning.NOTICE, "pay.link"]
    assert texts(out, make_facts(), locale)[0].startswith(NOTICE[locale])


def test_a_message_without_a_marker_gets_no_notice() -> None:
    t = Transcript(make_facts())
    t.verify()
    assert keys(t.says("pay with my card 4111", "pay_in_full")) == ["pay.link"]


def test_an_opt_out_confirmation_stays_the_one_message() -> None:
    t = Transcript(make_facts())
    assert keys(t.says(f"stop texting me {CARD}", "opt_out")) == ["optout.confirm"]
    assert keys(t.says(f"stop {CARD}", "opt_out")) == []  # already stopped: silence stays


def test_a_stop_acknowledgement_stays_the_one_message() -> None:
    t = Transcript(make_facts())
    out = t.says(f"my lawyer handles this {CARD}", "attorney_represented")
    assert keys(out) == ["stop.attorney"]
