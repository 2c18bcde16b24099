"""Opt-outs, stop-states, wrong person, handoffs, small talk, fallback, every intent handled."""

from __future__ import annotations

import pytest

from bot.dialogs import opt_out as opt_out_dialog
from bot.dialogs import router
from bot.dialogs.base import DialogState, Outcome, Turn
from bot.dialogs.opt_out import keyword, keyword_language
from bot.effects import RecordOptOut, SetStopState
from bot.messages import Purpose
from nlu.types import INTENTS
from tests.bot.helpers import T0, Transcript, effects, keys, make_facts


@pytest.mark.parametrize("text", [
    "STOP", "stop", "Unsubscribe", "CANCEL", "end", "QUIT", "STOPALL", "REVOKE", "OPTOUT",
    "opt out", "PARAR", "alto", "Baja.", "stop please", "STOP!!", "CANCELAR",
])
def test_stop_keywords_are_opt_outs(text: str) -> None:
    assert keyword(text) is not None


@pytest.mark.parametrize("text", [
    "stop bugging my grandma", "can you stop charging fees", "the end of the month",
    "I want to cancel my plan and make a new one", "alto el precio", "",
    "quiero cancelar la deuda", "puedo cancelar todo hoy?",
])
def test_sentences_with_stop_words_are_not_keywords(text: str) -> None:
    assert keyword(text) is None


def test_opt_out_confirms_once_then_silence() -> None:
    t = Transcript(make_facts())
    out = t.says("stop texting me", "opt_out")
    assert keys(out) == ["optout.confirm"]
    assert out.said[0].purpose == Purpose.OPT_OUT_CONFIRMATION and not out.said[0].debt
    assert out.effects == [RecordOptOut(all_channels=False, reason="opt_out", channels=("sms",))]
    assert keys(t.says("stop", "opt_out")) == []


def test_opt_out_of_everything() -> None:
    out = Transcript(make_facts()).says("don't contact me anywhere", "opt_out")
    assert out.effects == [RecordOptOut(all_channels=True, reason="opt_out")]


@pytest.mark.parametrize(("intent", "state"), [
    ("attorney_represented", "attorney"), ("bankruptcy", "bankruptcy"), ("deceased", "deceased"),
])
def test_stop_states_ack_once_and_hand_off_even_unverified(intent: str, state: str) -> None:
    t = Transcript(make_facts())
    out = t.says("my lawyer Jane Doe 555-0100 handles this, case 24-1234", intent)
    assert keys(out) == [f"stop.{state}"]
    assert out.said[0].purpose == Purpose.STOP_ACKNOWLEDGEMENT and not out.said[0].debt
    assert effects(out) == ["SetStopState", "Handoff"]
    assert isinstance(out.effects[0], SetStopState) and "Jane Doe" in out.effects[0].details
    assert keys(t.says("hello?", "greet")) == ["identity.ask.date_of_birth"] or t.state.stopped


def test_wrong_person_apologises_without_disclosure_and_suppresses() -> None:
    t = Transcript(make_facts())
    out = t.says("wrong number, no John here", "wrong_person")
    assert keys(out) == ["wrong_person.apology"]
    assert effects(out) == ["MarkWrongParty", "Audit"]
    assert t.state.stopped


def test_complaint_goes_to_a_person_with_priority() -> None:
    out = Transcript(make_facts()).says("you people are harassing me", "complaint")
    assert keys(out) == ["complaint.ack"]
    assert out.effects[0].priority == 2  # type: ignore[union-attr]


def test_request_agent_hands_off() -> None:
    out = Transcript(make_facts()).says("let me talk to a human", "request_agent")
    assert keys(out) == ["handoff.agent"] and effects(out) == ["Handoff"]


def test_clarify_once_then_hand_off() -> None:
    t = Transcript(make_facts())
    t.verify()
    assert keys(t.says("blorp", "out_of_scope")) == ["fallback.clarify"]
    assert keys(t.says("zzz", "out_of_scope")) == ["fallback.handoff"]


def test_small_talk() -> None:
    t = Transcript(make_facts())
    t.verify()
    assert keys(t.says("hello", "greet")) == ["greet.verified"]
    assert keys(t.says("thanks", "thanks")) == ["thanks.reply"]
    assert keys(t.says("bye", "goodbye")) == ["goodbye.reply"]


@pytest.mark.parametrize("intent", INTENTS)
def test_every_taxonomy_intent_has_a_reply_or_a_deliberate_silence(intent: str) -> None:
    t = Transcript(make_facts())
    t.verify()
    out = t.says("text", intent)
    assert out.said, intent
    assert intent in router.UNGATED or intent in router.GATED


@pytest.mark.parametrize(("text", "word"), [("STOP ALL", "STOP"), ("baja todo", "BAJA"),
                                            ("stop all please", "STOP")])
def test_a_stop_keyword_with_all_opts_out_everywhere(text: str, word: str) -> None:
    assert keyword(text) == word  # the confirmation stays in the keyword's language
    out = opt_out_dialog.opt_out(Outcome(DialogState()), Turn(text, "opt_out", T0), word=word)
    assert out.effects == [RecordOptOut(all_channels=True, reason=word)]


def test_cancelar_alone_confirms_in_spanish() -> None:
    assert keyword_language(keyword("CANCELAR") or "") == "es"
