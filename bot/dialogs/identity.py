"""Right-party verification: no word about the debt until the person proves who they are."""

from __future__ import annotations

import re
from datetime import date

from bot.dialogs.base import Outcome, Turn
from bot.dialogs.handoff import hand_off
from bot.effects import Audit
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
ISO_RE = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
NUMERIC_RE = re.compile(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\b")
WORDS_RE = re.compile(r"[a-záéíóú]+|\d+")
POSTAL_RE = re.compile(r"\b[0-9A-Za-z]{3,4}\s?[0-9A-Za-z]{3}\b|\b\d{5}(?:-\d{4})?\b")
MAX_UNANSWERED = 2


def factors(facts: Facts) -> list[str]:
    """The policy's factors this account can actually be checked against, in order."""
    on_file = {
        "date_of_birth": facts.identity.date_of_birth is not None,
        "postal_code": bool(facts.identity.postal_code),
        "reference_last4": bool(_digits(facts.identity.reference or "")),
    }
    return [f for f in facts.policy.verification_factors if on_file.get(f)]


def birth_dates(text: str) -> set[date]:
    """Every date `text` could mean (month/day order is ambiguous, so both are tried)."""
    found: set[date] = set()
    for y, m, d in ISO_RE.findall(text):
        found |= _dates((int(y), int(m), int(d)))
    for a, b, y in NUMERIC_RE.findall(text):
        found |= _dates((int(y), int(a), int(b)), (int(y), int(b), int(a)))
    found |= _worded_dates(text.lower())
    return found


def _worded_dates(text: str) -> set[date]:
    words = WORDS_RE.findall(text)
    month = next((MONTHS[w] for w in words if w in MONTHS), None)
    numbers = [int(w) for w in words if w.isdigit()]
    year = next((n for n in numbers if n > 1900), None)
    day = next((n for n in numbers if 1 <= n <= 31), None)
    if month is None or year is None or day is None:
        return set()
    return _dates((year, month, day))


def _dates(*candidates: tuple[int, int, int]) -> set[date]:
    found = set()
    for y, m, d in candidates:
        try:
            found.add(date(y, m, d))
        except ValueError:
            continue
    return found


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _postal(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def answer_matches(factor: str, turn: Turn, facts: Facts) -> bool | None:
    """True/False when `turn` answers `factor` rightly/wrongly; None when it is no answer."""
    if factor == "date_of_birth":
        candidates = birth_dates(turn.text)
        if not candidates:
            return None
        return facts.identity.date_of_birth in candidates
    if factor == "postal_code":
        tokens = POSTAL_RE.findall(turn.text)
        if not tokens:
            return None
        on_file = _postal(facts.identity.postal_code or "")
        return any(_postal(t) == on_file or _postal(t)[:5] == on_file for t in tokens)
    tail = _digits(facts.identity.reference or "")[-facts.policy.reference_digits :]
    # Only a number as long as the digits asked for is an answer: "I can pay 50" is not an
    # attempt, so it cannot use up the debtor's tries.
    groups = [g for g in re.findall(r"\d+", turn.text) if len(g) >= len(tail)]
    if not groups:
        return None
    return any(g[-len(tail) :] == tail for g in groups)


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
    if not available:
        return hand_off(out, "cannot_verify", key="identity.cannot_verify", queue="verification")
    if state.factor >= len(available):
        state.factor = 0
    verdict = answer_matches(available[state.factor], turn, facts) if state.introduced else None
    if remember and verdict is None:
        state.pending, state.pending_entities = turn.intent, dict(turn.entities)
    if not state.introduced:
        return ask(out, facts)
    if verdict is None:
        return _unanswered(out, turn, facts)
    state.clarified = 0
    out.identity_answer = True
    return _passed(out, turn, facts) if verdict else _failed(out, facts)


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


def _failed(out: Outcome, facts: Facts) -> Outcome:
    state = out.state
    state.attempts += 1
    state.factor = 0
    out.do(Audit("identity.failed", f"attempt {state.attempts}"))
    if state.attempts >= facts.policy.max_verification_attempts:
        state.locked = True
        return hand_off(out, "verification_locked", key="identity.locked", queue="verification")
    return out.say(f"identity.retry.{factors(facts)[0]}", left=(
        facts.policy.max_verification_attempts - state.attempts
    ))
