"""Attorney, bankruptcy, deceased, cease, wrong person: stop, acknowledge once, hand off."""

from __future__ import annotations

import re

from bot.dialogs import hardship
from bot.dialogs.base import Outcome, Turn
from bot.dialogs.handoff import debtor_said
from bot.effects import Audit, Handoff, MarkWrongParty, RecordOptOut, SetStopState
from bot.facts import Facts
from bot.messages import Purpose

STOP_INTENTS = {
    "attorney_represented": "attorney",
    "bankruptcy": "bankruptcy",
    "deceased": "deceased",
}
# An email address or a phone number: international (+44 20 7946 0958), or grouped like
# 555-0100, 555.123.4567 or (555) 123-4567 — never a date (2026-12-01).
_CONTACT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+\d[\d\s().-]{7,}\d"
                      r"|(?:\(?\b\d{3}\)?[\s.-]?)?\b\d{3}[.-]\d{4}\b")
HOLDS = frozenset({"attorney", "bankruptcy", "deceased", "cease", "dispute"})


# A person not verified may not be the debtor: their acknowledgement echoes no lawyer or
# bankruptcy, which would tell a relative there is something to be represented in.
NAMED_WHEN_VERIFIED = frozenset({"attorney", "bankruptcy"})


def stop(out: Outcome, turn: Turn, verified: bool = False) -> Outcome:
    """Set the stop-state with the details offered; one acknowledgement, then silence."""
    state = STOP_INTENTS[turn.intent]
    if out.state.stopped:
        return out
    if state == "deceased" and verified and hardship.mourns_another(turn.text):
        # docs/TAXONOMY.md: deceased is the debtor's death. The verified debtor telling of a
        # relative's is bereaved; unverified, the writer may be telling of the debtor's.
        return hardship.bereavement(out, turn)
    out.state.stopped = True
    out.state.clear_table()
    out.do(
        SetStopState(state, _details(turn)),
        Handoff(state, "legal", 1, legal_note(out, turn, state)),
    )
    named = verified and state in NAMED_WHEN_VERIFIED
    return out.say(f"stop.{state}_verified" if named else f"stop.{state}",
                   purpose=Purpose.STOP_ACKNOWLEDGEMENT)


def cease(out: Outcome, turn: Turn, opt_out: RecordOptOut | None) -> Outcome:
    """Cease (a refusal to pay or "stop all contact"), the channel's opt-out with it; one
    acknowledgement, then a person. `opt_out` is None when nothing more is to be opted out."""
    # compliance.md A.3 item 16: the account keeps only the notices the law allows, and
    # G item 75: START lifts the opt-out, never the cease.
    out.do(SetStopState("cease", _details(turn)),
           Handoff("cease", "legal", 1, legal_note(out, turn, "cease")))
    if opt_out is not None:
        out.do(opt_out)
    if out.state.stopped:
        return out
    out.state.stopped = True
    out.state.clear_table()
    return out.say("stop.cease", purpose=Purpose.STOP_ACKNOWLEDGEMENT)


def wrong_person(out: Outcome) -> Outcome:
    """Apologise without a word about any debt; never write to this address again."""
    if out.state.stopped:
        return out
    out.state.stopped = True
    out.state.clear_table()
    out.do(MarkWrongParty(), Audit("contact.wrong_party"))
    return out.say("wrong_person.apology", purpose=Purpose.STOP_ACKNOWLEDGEMENT)


def held(facts: Facts | None) -> str | None:
    """The hold that keeps the bot silent on this account or address, if any."""
    if facts is None:
        return None
    if facts.contact_opted_out:
        return "opted_out"
    if facts.contact_wrong_party:
        return "wrong_party"
    return next((s for s in facts.stop_states if s in HOLDS), None)


def legal_note(out: Outcome, turn: Turn, state: str) -> str | None:
    """The legal team's note: the debtor's words (bounded), and for a lawyer the contact
    details found anywhere in the message, even past the quoted part."""
    contact = _CONTACT.findall(turn.text) if state == "attorney" else []
    return debtor_said(out, turn, *(["attorney contact: " + ", ".join(contact)] if contact else []))


def _details(turn: Turn) -> str:
    # The debtor's own words carry the attorney's name and contact or the case number.
    extras = ", ".join(f"{k}={v}" for k, v in sorted(turn.entities.items()))
    return turn.text if not extras else f"{turn.text} [{extras}]"
