"""A pressed button is read by its data and its label together: every offer's first button is
"option:0", so a press on an older message (Telegram sends those) must not pick the open
offer's first choice; a typed reply is read by its words as before."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import engine
from bot.dialogs import router
from bot.messages import ConversationKey
from bot.ports import TurnContext

OPEN = [["Pay $420.50 now", "option:0"], ["6 monthly payments of $70.09", "option:1"],
        ["Talk to a person", "intent:request_agent"]]


def context(text: str, value: str | None) -> TurnContext:
    return TurnContext(message_id=1, conversation_id=1, key=ConversationKey("telegram", "7"),
                       text=text, received_at=datetime(2026, 11, 29, 15, tzinfo=UTC),
                       account_id=None, facts=None, choice_value=value)


def test_a_press_on_the_open_offer_picks_its_choice() -> None:
    chosen = engine._choice_of(context("6 monthly payments of $70.09", "option:1"), OPEN)
    assert chosen == (router.CHOOSE, {"option": "1"})


def test_a_press_on_an_older_offers_first_button_is_stale() -> None:
    chosen = engine._choice_of(context("Settle for $300.00 today", "option:0"), OPEN)
    assert chosen == (router.STALE_CHOICE, {})


def test_an_older_yes_is_no_yes_to_what_is_open_now() -> None:
    confirm = [["Yes", "intent:affirm"], ["No", "intent:deny"]]
    assert engine._choice_of(context("Yes", "intent:affirm"), confirm) == ("affirm", {})
    assert engine._choice_of(context("Yes", "intent:affirm"), OPEN) == (router.STALE_CHOICE, {})


def test_a_menu_button_of_an_older_message_still_holds() -> None:
    assert engine._choice_of(context("Talk to a person", "intent:request_agent"), []) == (
        "request_agent", {})


def test_a_press_without_its_label_is_read_by_its_data() -> None:
    assert engine._choice_of(context("[option 2]", "option:1"), OPEN) == (
        router.CHOOSE, {"option": "1"})


def test_a_typed_reply_is_read_by_its_words() -> None:
    assert engine._choice_of(context("2", None), OPEN) == (router.CHOOSE, {"option": "1"})
    assert engine._choice_of(context("talk to a person", None), OPEN) == ("request_agent", {})
    assert engine._choice_of(context("option:0", None), []) == (router.STALE_CHOICE, {})
