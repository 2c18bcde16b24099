"""HELP and START: the carrier keywords besides STOP, answered in every state (no NLU)."""

from __future__ import annotations

from bot.dialogs.base import Outcome
from bot.dialogs.opt_out import FILLER, tokens
from bot.effects import RecordOptIn
from bot.facts import Facts

# compliance.md C items 49-50: HELP / INFO ask for help; START / UNSTOP ask to resume, and
# in Spanish AYUDA and ALTA (BAJA's opposite: "darse de alta / de baja"). YES is an opt-in
# to Twilio too, but alone it is no clear request to resume (item 50 d); nor is INICIAR,
# which reads as "begin" a chat as much as "resume messages".
HELP = frozenset({"HELP", "INFO", "AYUDA"})
OPT_IN = frozenset({"START", "UNSTOP", "ALTA"})
SPANISH = frozenset({"AYUDA", "ALTA"})


def keyword(text: str) -> str | None:
    """The HELP or START keyword (AYUDA, ALTA …) when the message is only such a word (plus
    courtesy words), else None."""
    words = tokens(text)
    found = [t for t in words if t in HELP or t in OPT_IN]
    if not found or any(t not in HELP and t not in OPT_IN and t not in FILLER for t in words):
        return None
    return found[0]


def answer(out: Outcome, word: str, facts: Facts | None) -> Outcome:
    """Who we are and how to stop, or the opt-in recorded; nothing about any debt."""
    opted_out = bool(facts and facts.contact_opted_out)
    if word in SPANISH:  # answered in the keyword's language, as BAJA's confirmation is
        out.state.language = "es"
    if word in HELP:
        # An opted-out number gets no HELP reply either (item 49).
        return out if opted_out else out.say("help.reply")
    out.state.stopped = False
    # Recorded whether or not the number had opted out: START is the holder's clear request
    # for messages, so it is their consent on this channel (compliance.md C items 42, 50 d),
    # which a number never stopped may lack too. An address no account holds may still be
    # suppressed (its opt-out outlives this conversation's memory): it lifts whatever is there.
    out.do(RecordOptIn(word))
    # True whether or not the number had opted out ("subscribed again" was not, to a number
    # that never left).
    return out.say("optin.confirm")
