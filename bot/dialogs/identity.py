"""Right-party verification: no word about the debt until the person proves who they are."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from bot.dialogs.base import DialogState, Outcome, Turn
from bot.dialogs.handoff import hand_off
from bot.effects import Audit, ChargeFailedAnswer, NarrowHolders, Relink
from bot.facts import Facts

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan", "enero"), ("february", "feb", "febrero"),
            ("march", "mar", "marzo"), ("april", "apr", "abril"), ("may", "mayo"),
            ("june", "jun", "junio"), ("july", "jul", "julio"),
            ("august", "aug", "agosto"), ("september", "sep", "sept", "septiembre"),
            ("october", "oct", "octubre"), ("november", "nov", "noviembre"),
            ("december", "dec", "diciembre", "dic"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))


def _day_words() -> dict[str, int]:
    """Days written as words: "sixteenth", "twenty first", "dieciseis", "primero"."""
    units = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    firsts = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
              "ninth")
    teens = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
             "seventeen", "eighteen", "nineteen")
    words = {w: n for n, w in enumerate(units, 1)} | {w: n for n, w in enumerate(firsts, 1)}
    words |= {w: n for n, w in enumerate(teens, 10)}
    words |= {("twelfth" if w == "twelve" else w + "th"): n for n, w in enumerate(teens, 10)}
    words |= {"twenty": 20, "twentieth": 20, "thirty": 30,
              "thirtieth": 30, "thirty one": 31, "thirty first": 31}
    words |= {f"twenty {w}": 20 + n for n, w in enumerate(units, 1)}
    words |= {f"twenty {w}": 20 + n for n, w in enumerate(firsts, 1)}
    spanish = ("uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve",
               "diez", "once", "doce", "trece", "catorce", "quince", "dieciseis", "diecisiete",
               "dieciocho", "diecinueve", "veinte", "veintiuno", "veintidos", "veintitres",
               "veinticuatro", "veinticinco", "veintiseis", "veintisiete", "veintiocho",
               "veintinueve", "treinta")
    words |= {w: n for n, w in enumerate(spanish, 1)}
    return words | {"primero": 1, "primer": 1, "treinta y uno": 31}


DAY_WORDS = _day_words()
_DAY_WORD = "|".join(w.replace(" ", r"[\s-]+")
                     for w in sorted(DAY_WORDS, key=len, reverse=True))
_ORDINAL = r"(?:st|nd|rd|th|º|°)?"
_SEP = r"[\s,./-]*"
_OF = r"(?:(?:of|de|del)\s+)?"
ISO_RE = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
NUMERIC_RE = re.compile(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})\b")
# "March 16, 1971", "marzo 16 de 1971" / "16 de marzo de 1971", "the 16th of March, 1971"
MONTH_FIRST_RE = re.compile(
    rf"\b({_MONTH})\b\.?{_SEP}(?:the\s+)?(\d{{1,2}}){_ORDINAL}\b{_SEP}{_OF}(\d{{4}}|\d{{2}})\b"
)
DAY_FIRST_RE = re.compile(
    rf"\b(\d{{1,2}}){_ORDINAL}{_SEP}{_OF}({_MONTH})\b\.?{_SEP}{_OF}(\d{{4}}|\d{{2}})\b"
)
# "11 15 1981": spaces alone only with a four-digit year ("pay 50 10 15" is no date).
SPACED_RE = re.compile(r"(?<![\d/.-])(\d{1,2})\s+(\d{1,2})\s+(\d{4})(?![\d/.-])")
# "08011955": eight digits, read like a numeric date (or year first, "19550801").
COMPACT_RE = re.compile(r"(?<![\d/.-])(\d{8})(?![\d/.-])")
# "July sixteenth 1956", "the sixteenth of July 1956", "dieciseis de julio de 1956"
WORD_MONTH_FIRST_RE = re.compile(
    rf"\b({_MONTH})\b\.?{_SEP}(?:the\s+)?({_DAY_WORD})\b{_SEP}{_OF}(\d{{4}}|\d{{2}})\b"
)
WORD_DAY_FIRST_RE = re.compile(
    rf"\b({_DAY_WORD})\b{_SEP}{_OF}({_MONTH})\b\.?{_SEP}{_OF}(\d{{4}}|\d{{2}})\b"
)
OLDEST_YEAR = 1900
ZIP_RE = re.compile(r"\b\d{5}(?:-\d{4})?\b")
POSTAL_RE = re.compile(r"\b[0-9A-Za-z]{2,4}\s?[0-9A-Za-z]{3}\b")
LETTER_RE = re.compile(r"[^\W\d_]")
MAX_UNANSWERED = 2
# Words that come with an answer ("my dob is …", "cp …", "nací el …") and state nothing else.
_ANSWER_WORDS = (
    "my dob d o b date of birth birthday bday born zip zipcode code postal postcode is it its s "
    "was on the i im am m and ok okay sure yes yeah here thanks thank you thx please pls "
    "ending ends last digits reference ref number st nd rd th "
    "mi fecha de del nacimiento naci nacido nacida el la es codigo cp si vale gracias por favor "
    "aqui esta y o termina terminacion en digitos referencia numero"
)
ANSWER_WORDS = frozenset(_ANSWER_WORDS.split())
WORD_RE = re.compile(r"[^\W\d_]+")
# Only English (as written in the US) puts the month first; Spanish, like most, the day.
MONTH_FIRST_LANGUAGES = frozenset({"en"})


def factors(facts: Facts) -> list[str]:
    """The factors a person is asked, in the policy's order: the first of those on file, as
    many as the policy requires; none when fewer are on file (the account cannot be checked
    here: one factor, a ZIP the whole household knows, is no proof of who writes)."""
    listed = list(dict.fromkeys(facts.policy.verification_factors))
    on_file = [f for f in listed if _on_file(f, facts)]
    required = facts.policy.min_verification_factors or len(listed)
    return on_file[:required] if len(on_file) >= required else []


def _on_file(factor: str, facts: Facts) -> bool:
    """True when the account holds `factor`; a reference's ending only when it has all the
    digits asked for ("ACME-7" would be one digit to guess)."""
    if factor == "date_of_birth":
        return facts.identity.date_of_birth is not None
    if factor == "postal_code":
        return bool(facts.identity.postal_code)
    digits = _digits(facts.identity.reference or "")
    return factor == "reference_last4" and len(digits) >= facts.policy.reference_digits


def birth_dates(text: str, language: str | None = None, today: date | None = None) -> set[date]:
    """The dates `text` names, one per date written in it.

    A numeric date whose day and month could be read both ways is read the way `language`
    writes dates (month first in English, the default; day first otherwise) — never both,
    which would double a guesser's odds. When only one reading is a date, it is that one.
    """
    return {d for d in _date_mentions(text, language, today) if isinstance(d, date)}


def _year(written: str, today: date | None) -> int:
    """A year as written; "85" is 1985 and "05" 2005 — the latest not after today."""
    year = int(written)
    if len(written) > 2:
        return year
    return 2000 + year if today is not None and 2000 + year <= today.year else 1900 + year


def _date_mentions(text: str, language: str | None, today: date | None = None
                   ) -> list[date | str]:
    """Each date written in `text`: the date it names, or its text when it names none."""
    month_first = (language or "en").split("-")[0].lower() in MONTH_FIRST_LANGUAGES
    found: list[date | str] = []
    for match in ISO_RE.finditer(text):
        y, m, d = (int(g) for g in match.groups())
        found.append(_date(y, m, d) or match.group())
    for match in (*NUMERIC_RE.finditer(text), *SPACED_RE.finditer(text)):
        found.append(_numeric(match.groups(), month_first, today) or match.group())
    for match in COMPACT_RE.finditer(text):
        found.append(_compact(match.group(), month_first, today) or match.group())
    plain = _plain(text)
    for match in WORD_MONTH_FIRST_RE.finditer(plain):
        month, day, year = match.groups()
        found.append(_worded(year, month, day, today) or match.group())
    for match in WORD_DAY_FIRST_RE.finditer(plain):
        day, month, year = match.groups()
        found.append(_worded(year, month, day, today) or match.group())
    lowered = text.lower()
    for match in MONTH_FIRST_RE.finditer(lowered):
        month, day, year = match.groups()
        found.append(_date(_year(year, today), MONTHS[month], int(day)) or match.group())
    for match in DAY_FIRST_RE.finditer(lowered):
        day, month, year = match.groups()
        found.append(_date(_year(year, today), MONTHS[month], int(day)) or match.group())
    return found


def _numeric(groups: tuple[str, ...], month_first: bool, today: date | None) -> date | None:
    """A numeric date's reading: as the language writes it, else the only other one."""
    a, b, y = int(groups[0]), int(groups[1]), _year(groups[2], today)
    as_written = _date(y, a, b) if month_first else _date(y, b, a)
    return as_written or (_date(y, b, a) if month_first else _date(y, a, b))


def _compact(digits: str, month_first: bool, today: date | None) -> date | None:
    """Eight digits: MMDDYYYY (DDMMYYYY where the day comes first), else YYYYMMDD; only a
    year a living person was born in counts, so "20011208" is 2001-12-08, not year 1208."""
    latest = today.year if today is not None else date.max.year
    written = _numeric((digits[:2], digits[2:4], digits[4:]), month_first, today)
    if written is not None and OLDEST_YEAR <= written.year <= latest:
        return written
    year_first = _date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    if year_first is not None and OLDEST_YEAR <= year_first.year <= latest:
        return year_first
    return None


def _worded(year: str, month: str, day: str, today: date | None) -> date | None:
    return _date(_year(year, today), MONTHS[month], DAY_WORDS[re.sub(r"[\s-]+", " ", day)])


def _date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _postal(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def _postal_values(text: str, on_file: str) -> set[str]:
    """The postal codes `text` names, each as it compares with `on_file`."""
    code = _postal(on_file)
    if code.isdigit() and len(code) in (5, 9):  # a ZIP (or ZIP+4): its five digits decide
        return {_postal(t)[:5] for t in ZIP_RE.findall(text)}
    if code.isdigit():
        return set(re.findall(rf"\b\d{{{len(code)}}}\b", text))
    return {_postal(t) for t in POSTAL_RE.findall(text) if any(ch.isdigit() for ch in t)}


def _reference_values(text: str, tail: str) -> set[str]:
    """The endings of the numbers in `text` as long as the digits asked for.

    Only such a number is an answer: "I can pay 50" is not an attempt, so it cannot use up
    the debtor's tries.
    """
    return {g[-len(tail):] for g in re.findall(r"\d+", text) if len(g) >= len(tail)}


def _values(factor: str, text: str, facts: Facts, language: str | None) -> set[object]:
    if factor == "date_of_birth":
        return set(_date_mentions(text, language, facts.today))
    if factor == "postal_code":
        return set(_postal_values(text, facts.identity.postal_code or ""))
    return set(_reference_values(text, _tail(facts)))


def _tail(facts: Facts) -> str:
    return _digits(facts.identity.reference or "")[-facts.policy.reference_digits :]


def _expected(factor: str, facts: Facts) -> object:
    if factor == "date_of_birth":
        return facts.identity.date_of_birth
    if factor == "postal_code":
        return _postal(facts.identity.postal_code or "")[:5] if _is_zip(facts) else _postal(
            facts.identity.postal_code or "")
    return _tail(facts)


def _is_zip(facts: Facts) -> bool:
    code = _postal(facts.identity.postal_code or "")
    return code.isdigit() and len(code) in (5, 9)


def answer_matches(
    factor: str, turn: Turn, facts: Facts, language: str | None = None,
    shown: str | None = None,
) -> bool | None:
    """True/False when `turn` answers `factor` rightly/wrongly; None when it is no answer.

    An answer is one value. A message naming more than one (dates, postal codes, endings of
    the reference) is someone trying several at once: a wrong answer, whichever it holds.
    A single date that is no date at all ("02/30/1971") is no answer: asked again.
    `shown` is the language the question was asked in when it differs from `language`: its
    example ("03/14/1985" in English) is how the debtor may well have written the one date.
    """
    values = _values(factor, turn.text, facts, language)
    if len(values) > 1:
        return False
    if shown is not None and factor == "date_of_birth" and len(values) == 1:
        as_shown = _values(factor, turn.text, facts, shown)
        if len(as_shown) == 1 and as_shown != values and _expected(factor, facts) in as_shown:
            return True
    if not values:
        return None
    [value] = values
    if factor == "date_of_birth" and not isinstance(value, date):
        return None
    return value == _expected(factor, facts)


def answers_open_question(state: DialogState, turn: Turn, facts: Facts) -> bool:
    """True when an identity question is open and `turn` names a value for it
    ("03/16/1971 thanks": an answer with manners, not small talk)."""
    available = factors(facts)
    if not state.introduced or state.locked or not available:
        return False
    factor = available[state.factor % len(available)]
    return bool(_values(factor, turn.text, facts, turn.language or facts.preferred_language
                        or state.language))


def bare_answer(text: str) -> bool:
    """True when `text` holds digits and no word that states anything: a date, a ZIP or
    ZIP+4, digits and separators ("89101-1234", "dob 01-18-1982"). Such a message names no
    lawyer, bankruptcy or death, whatever a classifier reads into its digits."""
    if not any(ch.isdigit() for ch in text):
        return False
    words = WORD_RE.findall(_plain(text))
    return all(w in ANSWER_WORDS or w in MONTHS or w in DAY_WORDS for w in words)


def _plain(text: str) -> str:
    """Lower case without accents ("nací" is "naci")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def is_answer(state: DialogState, turn: Turn, facts: Facts) -> bool:
    """True when an identity question is open and `turn` reads as an answer to one (right,
    wrong or to another factor). Such a message carries no intent and never reaches the
    trainers, whoever owns the conversation."""
    available = factors(facts)
    if not state.introduced or state.locked or not available or state.is_verified(turn.now):
        return False
    language = turn.language or facts.preferred_language or state.language or "en"
    return _answer_shaped(turn, facts, available, language)


def repeats_answer(turn: Turn, facts: Facts) -> bool:
    """True when a verified person sends a right identity answer again (a double submit, a
    second tab): it is no amount nor date to negotiate with."""
    if LETTER_RE.search(turn.text):
        return False
    language = turn.language or facts.preferred_language or "en"
    return any(answer_matches(f, turn, facts, language) for f in factors(facts))


def _answer_shaped(turn: Turn, facts: Facts, available: list[str], language: str | None) -> bool:
    """True when `turn` reads as an answer to some identity question, not as a new request:
    it has no words (a bare number or date), or it names a value one of the factors takes."""
    if not LETTER_RE.search(turn.text):
        return True
    return any(_values(f, turn.text, facts, language) for f in available)


def _language(out: Outcome, turn: Turn, facts: Facts) -> str:
    """How the debtor writes dates: the message's own language, else the language on the
    creditor's file, else the conversation's (a "hello" must not turn 05/03 into May 3 for a
    debtor whose records say Spanish)."""
    return turn.language or facts.preferred_language or out.state.language or "en"


def ask(out: Outcome, facts: Facts, key: str = "identity.ask") -> Outcome:
    """Ask for the next factor (introducing the bot the first time, in the same message).

    One message, not two: at night only one reply to a debtor who wrote may go out
    (compliance.md A.1 item 5), and it must be the one that asks the question.
    """
    lead = None if out.state.introduced else "identity.intro"
    out.state.introduced = True
    factor = factors(facts)[out.state.factor]
    return out.say(f"{key}.{factor}", lead=lead)


def step(out: Outcome, turn: Turn, facts: Facts, *, remember: bool) -> Outcome:
    """Handle one message from a person not (or no longer) verified in this conversation."""
    state = out.state
    available = factors(facts)
    if state.locked:
        return out.say("identity.locked")
    if _used(state, facts) >= facts.policy.max_verification_attempts:
        # Used up in another conversation, or before this state was lost.
        state.attempts = _used(state, facts)
        return _lock(out)
    if not available:
        return hand_off(out, "cannot_verify", key="identity.cannot_verify", queue="verification")
    if state.factor >= len(available):
        state.factor = 0
    language = _language(out, turn, facts)
    shown = state.language if not turn.language and state.language != language else None
    verdict = (
        answer_matches(available[state.factor], turn, facts, language, shown)
        if state.introduced else None
    )
    # The request to answer once verified. While a question is open, an answer to it (right,
    # wrong or to another factor: a ZIP typed at the date prompt the NLU took for an amount)
    # or a bare number is no new request and must not replace the one remembered.
    shaped = state.introduced and _answer_shaped(turn, facts, available, language)
    if remember and verdict is None and not shaped and not _greets_over(state, turn):
        state.pending, state.pending_entities = turn.intent, dict(turn.entities)
    if not state.introduced:
        return ask(out, facts)
    # An answer to another factor is an identity answer all the same: no intent, no trainer.
    out.identity_answer = shaped
    if verdict is None:
        return _unanswered(out, turn, facts)
    state.clarified = 0
    out.identity_answer = True
    if _holders(facts):
        return _shared_answer(out, turn, facts, language, shown)
    return _passed(out, turn, facts) if verdict else _failed(out, facts)


def _greets_over(state: DialogState, turn: Turn) -> bool:
    """A greeting asks for nothing: it never replaces a request already remembered ("hello?"
    after "can I get a payment plan", or after the morning's request to verify again)."""
    return turn.intent == "greet" and state.pending not in (None, "greet")


def _holders(facts: Facts) -> list[Facts]:
    """The address's other holders who are asked the very questions this account asks."""
    asked = factors(facts)
    return [h for h in facts.holders if factors(h) == asked]


def _running(state: DialogState, facts: Facts) -> list[Facts]:
    """Whose answers are still in the running: everyone holding the address at the first
    factor, then those the round's earlier answers matched (no record of them: this
    account alone, as on a number one debtor holds)."""
    everyone = [facts, *_holders(facts)]
    if state.factor == 0:
        return everyone
    narrowed = facts.narrowed
    if narrowed is None or narrowed.after_factor != state.factor - 1:
        return [facts]
    return [f for f in everyone if f.account_id in narrowed.account_ids]


def _shared_answer(out: Outcome, turn: Turn, facts: Facts, language: str,
                   shown: str | None) -> Outcome:
    """An answer on a number several debtors hold: identity decides who is writing."""
    state = out.state
    asked = factors(facts)
    matched = [f for f in _running(state, facts)
               if answer_matches(asked[state.factor], turn, f, language, shown)]
    if not matched:
        # Counted against every holder: sharing a number gives a guesser no extra tries.
        out.do(*(ChargeFailedAnswer(h.account_id) for h in facts.holders))
        return _failed(out, facts)
    if state.factor + 1 < len(asked):
        out.do(NarrowHolders(state.factor, tuple(f.account_id for f in matched)))
        return _passed(out, turn, facts)
    # Identical answers: one person imported once per account (the importer makes a debtor
    # row for each new account) far more often than two people with one birthday and ZIP,
    # so they verify the linked account when it matched, else the most pressing match.
    writer = next((f for f in matched if f.account_id == facts.account_id), matched[0])
    if writer.account_id != facts.account_id:
        if writer.debtor_id is None:  # no debtor to give the conversation to: never verify
            return hand_off(out, "verification_ambiguous", key="identity.handoff",
                            queue="verification")
        # A request remembered before the match cannot be answered from this turn's facts
        # (the other debtor's account): the router asks the writer to say it again.
        out.do(Relink(writer.debtor_id, writer.account_id))
    return _passed(out, turn, writer)


def _unanswered(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    out.state.clarified += 1
    if out.state.clarified > MAX_UNANSWERED:
        out.state.clarified = 0
        return hand_off(out, "verification_stalled", key="identity.handoff", queue="verification")
    if turn.intent == "ask_who":
        out.say("who.unverified")
    return ask(out, facts, "identity.ask")


def _passed(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    state = out.state
    state.factor += 1
    if state.factor < len(factors(facts)):
        return out.say(f"identity.next.{factors(facts)[state.factor]}")
    state.verify(turn.now, facts.policy.verified_ttl_minutes)
    return out.do(Audit("identity.verified"))


def _used(state: DialogState, facts: Facts) -> int:
    """Attempts used: this conversation's, or the account's audited wrong answers when more
    (a restart, an expired state or another channel must not give guesses back). The larger,
    never the sum: they are the same wrong answers, and the portal copies its share of the
    audited ones into its state. On a shared number, the most any holder's account used."""
    return max(state.attempts, facts.identity_failures,
               *(h.identity_failures for h in facts.holders))


def _lock(out: Outcome) -> Outcome:
    out.state.locked = True
    return hand_off(out, "verification_locked", key="identity.locked", queue="verification")


def _failed(out: Outcome, facts: Facts) -> Outcome:
    state = out.state
    state.attempts = _used(state, facts) + 1
    state.factor = 0
    out.do(Audit("identity.failed", f"attempt {state.attempts}"))
    if state.attempts >= facts.policy.max_verification_attempts:
        return _lock(out)
    return out.say(f"identity.retry.{factors(facts)[0]}", left=(
        facts.policy.max_verification_attempts - state.attempts
    ))
