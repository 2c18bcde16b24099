"""Times the debtor says are inconvenient ("not before noon"): read, recorded, acknowledged."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

from bot.dialogs.base import Outcome, Said, Turn
from bot.effects import SetContactHours
from bot.messages import Reply

# English: the hour, then am/pm (or noon / midnight).
_EN_HOUR = (r"(?P<{p}>noon|midday|midnight|(?P<{p}h>\d{{1,2}})(?::(?P<{p}m>\d{{2}}))?"
            r"\s*(?P<{p}ap>a\.?m\.?|p\.?m\.?|o'?clock)?)(?![\d/]|st\b|nd\b|rd\b|th\b)")
# Spanish: "las 8 de la noche", "las 18:00", "mediodia" (accents already stripped).
_ES_HOUR = (r"(?P<{p}>mediodia|medianoche|(?:las?\s+)?(?P<{p}h>\d{{1,2}})(?::(?P<{p}m>\d{{2}}))?"
            r"\s*(?P<{p}ap>de la manana|de la tarde|de la noche|am|pm|a\.m\.|p\.m\.|hrs|h)?)"
            r"(?![\d/])")
_EN_VERB = (r"(?:message|messages|messaging|msg|text|texts|texting|call|calls|calling|contact"
            r"|contacting|write|writing|email|emails|bother|reach)")
_ES_VERB = (r"(?:escriban|escribas|escriba|escribir|manden|mandes|envien|llamen|llames|llame"
            r"|contacten|molesten|mensajes?|llamadas?)")
# The words between "don't text me" and "before noon": a few, none about paying nor another
# "until" — "don't call me, I'll pay before noon" names a payment time, "don't text me until
# tomorrow after 5" a day to wait for. A day named ("on weekends") is read as every day: the
# stricter reading (compliance.md item 4).
_GAP = r"(?:\s+(?!pay|paid|pag|before|until|till|after|past|antes|despues)[\w']+){0,4}?"
_SIDE_EN = r"(?P<side>before|until|till|after|past)"
_SIDE_ES = r"(?P<side>antes|despues)\s+(?:de(?:l)?\b)"

_DESIGNATIONS = tuple(re.compile(p) for p in (
    # "please don't message me before noon", "no texts after 6pm"
    rf"\b(?:don'?t|do not|never|no|stop)\s+{_EN_VERB}(?:\s+me)?{_GAP}\s+{_SIDE_EN}\s+"
    + _EN_HOUR.format(p="a"),
    # "not before 10am"
    r"\bnot\s+" + _SIDE_EN + r"\s+" + _EN_HOUR.format(p="a"),
    # "only text me after 5"
    rf"\bonly\s+{_EN_VERB}(?:\s+me)?\s+{_SIDE_EN}\s+" + _EN_HOUR.format(p="a"),
    # "no me escriban antes de las 12"
    rf"\bno\s+(?:me\s+)?{_ES_VERB}(?:me)?{_GAP}\s+{_SIDE_ES}\s*" + _ES_HOUR.format(p="a"),
    # "despues de las 8 de la noche no"
    rf"\b{_SIDE_ES}\s*" + _ES_HOUR.format(p="a") + r"\s*,?\s*no\b(?!\s+(?:puedo|pago|tengo))",
    # "solo escribanme despues de las 5"
    rf"\bsolo\s+(?:me\s+)?{_ES_VERB}(?:me)?\s+{_SIDE_ES}\s*" + _ES_HOUR.format(p="a"),
))
_CLEARS = tuple(re.compile(p) for p in (
    rf"\b{_EN_VERB}\s+me\s+(?:at\s+)?any\s*time\b",
    r"\bany\s*time is (?:fine|ok|okay)\b",
    r"\b(?:escribirme|escribanme|llamarme|contactarme|mandarme mensajes?)\s+(?:a\s+)?"
    r"cualquier\s+hora\b",
))
# What a message that is only a designation may still say around it (an opt-out would not).
_STOP_WORDS = re.compile(r"\b(?:stop|unsubscribe|never|no more|dejen de|ya no|basta|cancel)")
# Readings the designation itself may have caused: the message said nothing else to answer.
ALONE_INTENTS = frozenset({"opt_out", "out_of_scope", "affirm", "deny", "greet", "thanks",
                           "goodbye"})


@dataclass(frozen=True)
class ContactHours:
    """The debtor's own bounds on the local hours they may be messaged (None: no bound)."""

    not_before: time | None = None
    not_after: time | None = None
    span: tuple[int, int] = (0, 0)  # where in the normalized text it was said

    @property
    def cleared(self) -> bool:
        """True when the debtor lifted their designation ("text me anytime")."""
        return self.not_before is None and self.not_after is None


def normalized(text: str) -> str:
    """Lowercase, no accents, straight apostrophes: what the patterns read."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'").lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def designation(text: str) -> ContactHours | None:
    """The contact hours a message designates or clears; None when it says nothing of them."""
    plain = normalized(text)
    for pattern in _CLEARS:
        if found := pattern.search(plain):
            return ContactHours(span=found.span())
    for pattern in _DESIGNATIONS:
        if (found := pattern.search(plain)) and (hours := _hours_of(found)) is not None:
            return hours
    return None


def _hours_of(found: re.Match[str]) -> ContactHours | None:
    side = found.group("side")
    at = _clock(found, later=side in ("after", "past", "despues"))
    if at is None:
        return None
    if side in ("after", "past", "despues") and not found.group(0).startswith(("only", "solo")):
        return ContactHours(not_after=at, span=found.span())
    if side in ("after", "past", "despues"):  # "only text me after 5": from 5 on
        return ContactHours(not_before=at, span=found.span())
    if found.group(0).startswith(("only", "solo")):  # "only text me before 10": until 10
        return ContactHours(not_after=at, span=found.span())
    return ContactHours(not_before=at, span=found.span())


def _clock(found: re.Match[str], *, later: bool) -> time | None:
    """The time named; a bare small hour is read as the afternoon or evening ("after 5")."""
    word = found.group("a")
    if word in ("noon", "midday", "mediodia"):
        return time(12)
    if word in ("midnight", "medianoche"):
        return time(0)
    hour, minute = int(found.group("ah")), int(found.group("am") or 0)
    marker = (found.group("aap") or "").replace(".", "")
    if hour > 23 or minute > 59 or (marker and marker not in ("oclock", "o'clock", "hrs", "h")
                                    and not 1 <= hour <= 12):
        return None
    if marker in ("pm", "de la tarde", "de la noche") and hour < 12:
        hour += 12
    elif marker in ("am", "de la manana") and hour == 12:
        hour = 0
    elif not marker or marker in ("oclock", "o'clock"):
        hour = _bare(hour, later=later)
    return time(hour, minute)


def _bare(hour: int, *, later: bool) -> int:
    """Nobody asks not to be texted before 5 in the morning: 1-6 is pm, 7-11 pm after."""
    if 1 <= hour <= 6 or (later and 7 <= hour <= 11):
        return hour + 12
    return hour


def said_alone(hours: ContactHours, turn: Turn) -> bool:
    """Only the designation was said: nothing else in the message to answer."""
    plain = normalized(turn.text)
    rest = plain[:hours.span[0]] + plain[hours.span[1]:]
    return turn.intent in ALONE_INTENTS and not _STOP_WORDS.search(rest)


def heard(hours: ContactHours, turn: Turn, out: Outcome,
          answer: Callable[[Turn], Outcome]) -> Outcome:
    """Record the hours, acknowledge them first, then say what the turn would have said."""
    # 12 CFR 1006.6(b)(1), compliance.md items 4-5: a time the consumer calls inconvenient
    # stays so until they say otherwise; the gate keeps every outbound out of it.
    if not said_alone(hours, turn):
        out = answer(turn)
    out.effects.insert(0, SetContactHours(hours.not_before, hours.not_after))
    out.said.insert(0, Said(_acknowledgement(hours, turn.language or out.state.language)))
    return out


def _acknowledgement(hours: ContactHours, language: str | None) -> Reply:
    spanish = language == "es"
    slots = {"start": _spoken(hours.not_before, spanish), "end": _spoken(hours.not_after, spanish)}
    if hours.cleared:
        key = "contact_hours.cleared"
    elif hours.not_before and hours.not_after:
        key = "contact_hours.between"
    else:
        key = "contact_hours.not_before" if hours.not_before else "contact_hours.not_after"
    return Reply(key, {k: v for k, v in slots.items() if v})


def _spoken(at: time | None, spanish: bool) -> str:
    """"12 PM" / "6:30 PM" in English, "12:00" / "18:30" in Spanish."""
    if at is None:
        return ""
    if spanish:
        return at.strftime("%H:%M")
    twelve = at.hour % 12 or 12
    minutes = f":{at.minute:02d}" if at.minute else ""
    return f"{twelve}{minutes} {'PM' if at.hour >= 12 else 'AM'}"
