"""Opt-outs: the STOP keywords in every state, and "stop texting me" from the NLU."""

from __future__ import annotations

import re
import unicodedata

from bot.dialogs import cease, promise, stop_states
from bot.dialogs.base import Outcome, Turn, plain
from bot.effects import RecordOptOut
from bot.messages import Purpose

# Carrier / FCC keywords (compliance.md items 43, 50) and their Spanish counterparts.
KEYWORDS = frozenset({
    "STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "STOPALL", "REVOKE", "OPTOUT",
    "PARAR", "ALTO", "BAJA", "CANCELAR",
})
# CANCELAR alone is CANCEL's Spanish; with an object ("cancelar la deuda") it is paying off.
SPANISH = frozenset({"PARAR", "ALTO", "BAJA", "CANCELAR", "NO MAS"})
# Whole messages that ask to stop in more than one word (compliance.md A.3 item 43 names
# "no más"); alone, not inside a sentence ("no mas tiempo" is something else).
PHRASES = {"NO MAS": "NO MAS", "NO MAS MENSAJES": "NO MAS", "NO MORE MESSAGES": "STOP"}
ENGLISH_PHRASES = frozenset({"NO MORE MESSAGES"})
ALL_CHANNELS = frozenset({"STOPALL"})
ALL_FILLER = frozenset({"ALL", "TODO", "TODOS"})
# Words that may surround a keyword without changing what it means ("STOP please").
FILLER = frozenset({
    "PLEASE", "PLS", "PLZ", "NOW", "IT", "ME", "OPT", "OUT", "POR", "FAVOR", "YA", "DE",
    "ALL", "TODO", "TODOS",
})
ALL_WORDS = re.compile(
    r"\b(all|everything|every channel|anywhere|everywhere|any means|any way|todo|todos|ningún"
    r"|ningun|ninguna|ningún medio|ningun medio)\b", re.I
)
# Channels a debtor may name wherever they write ("stop texting me" typed in the portal).
# "Cancel" with a commitment as its object takes the commitment back, not the consent to
# be contacted ("please cancel the promise", "cancelar el acuerdo"), as CANCELAR with an
# object is no keyword; "cancel that" or "cancel it" names no commitment, so the NLU's
# reading stands. Accents dropped.
_ARTICLE = r"(?:the|my|our|this|that|these|those|el|la|los|las|mi|mis|este|esta|ese|esa)"
_COMMITMENT = (r"(?:promise|payment|plan|arrangement|agreement|deal|commitment|installment"
               r"|promesa|pago|plan|acuerdo|compromiso|convenio|arreglo|cuota)s?")
# "cancel the payment reminders" is about messages.
_MESSAGES = (r"(?:reminders?|messages?|texts?|notifications?|alerts?|emails?|calls?"
             r"|recordatorios?|mensajes?|avisos?|notificaciones|alertas?|correos?|llamadas?)")
WITHDRAWAL = re.compile(
    rf"\b(?:cancel\w*|call off|withdraw|take back|undo|anul\w*)\s+(?:{_ARTICLE}\s+)+"
    rf"(?:(?:payment|promise)\s+)?{_COMMITMENT}\b(?!\s+{_MESSAGES})")
# "cancel that", "cancelarlo": a withdrawal only while a promise or plan stands.
CANCEL_THAT = re.compile(
    r"\b(?:(?:cancel|withdraw|undo|anul)\w*\s+(?:that|it|this|eso|esto)|"
    r"call (?:it|that) off|take (?:it|that) back|cancelarl[oa]|anularl[oa])\b"
    r"(?!\s+(?:texts?|texting|messages?|mensajes?|msgs?))")
CHANNEL_WORDS = {
    "sms": re.compile(r"\b(texts?|texting|texted|sms|mensajes? de texto|msj)\b", re.I),
    "whatsapp": re.compile(r"\b(whats ?app|wsp|wasap|guasap)\b", re.I),
    "email": re.compile(r"\b(e-?mails?|emailing|correos?( electronicos?)?)\b", re.I),
    "telegram": re.compile(r"\btelegram\b", re.I),
}


def tokens(text: str) -> list[str]:
    """The message's words, upper-case ASCII (accents dropped)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.findall(r"[A-Z]+", plain.upper())


def keyword(text: str) -> str | None:
    """The STOP keyword when the message is only that (plus courtesy words), else None.

    "STOP", "stop please", "Baja." and "opt out" are opt-outs; "stop bugging my grandma" is not.
    """
    words = tokens(text)
    phrase = " ".join(words)
    if phrase in ("OPT OUT", "OPT OUT PLEASE"):
        return "OPTOUT"
    if phrase in PHRASES:
        return PHRASES[phrase]
    found = [t for t in words if t in KEYWORDS]
    if not found or any(t not in KEYWORDS and t not in FILLER for t in words):
        return None
    return found[0]


def keyword_language(word: str, text: str = "") -> str | None:
    """The language a keyword message was written in; None for the carriers' keywords.

    STOP, END, CANCEL … are every language's (a Spanish reminder says "Responda STOP"), so
    they keep the conversation's language (docs/CONVERSATIONS.md: no words, no change).
    """
    if word in SPANISH:
        return "es"
    return "en" if " ".join(tokens(text)) in ENGLISH_PHRASES else None


def opt_out(out: Outcome, turn: Turn, *, word: str | None = None) -> Outcome:
    """Record the opt-out (this address, or all of them) and confirm once.

    Once stopped, only a wider opt-out ("STOP ALL" after "STOP") is news: it is recorded
    without another confirmation. A refusal to pay or a request to end all communication
    is a cease besides (`bot.dialogs.cease`).
    """
    if word is None and withdraws_commitment(turn.text):
        return promise.withdraw(out, turn)
    named = named_channels(turn.text) if word is None else ()
    said_all = any(t in ALL_FILLER for t in tokens(turn.text))  # "STOP ALL", "baja todo"
    all_channels = word in ALL_CHANNELS or (word is not None and said_all) or (
        word is None and bool(ALL_WORDS.search(turn.text)))
    all_channels = all_channels or len(named) > 1  # "no texts, no emails, nothing"
    record = RecordOptOut(all_channels=all_channels, reason=word or "opt_out",
                          channels=() if all_channels else named)
    # Once stopped, only a wider opt-out is news.
    news = record if not out.state.stopped or all_channels or named else None
    if word is None and cease.stated(turn.text):  # a keyword alone is never a cease
        return stop_states.cease(out, turn, news)
    if out.state.stopped:
        if news is not None:
            out.do(news)
        return out
    out.state.stopped = True
    out.state.clear_table()
    out.do(record)
    return out.say("optout.confirm", purpose=Purpose.OPT_OUT_CONFIRMATION)


def withdraws_commitment(text: str, *, standing: bool = False) -> bool:
    """The message cancels a promise, payment or plan ("please cancel the promise", "quiero
    cancelar el acuerdo"), not the messages; "cancel that" too while one is `standing`."""
    words = plain(text)
    if WITHDRAWAL.search(words) is not None:
        return True
    return standing and CANCEL_THAT.search(words) is not None


def named_channels(text: str) -> tuple[str, ...]:
    """The channels a message names, in a fixed order."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return tuple(name for name, words in CHANNEL_WORDS.items() if words.search(plain))
