"""Attorney, bankruptcy, deceased, cease, wrong person: stop, acknowledge once, hand off."""

from __future__ import annotations

import re

from bot.dialogs import hardship
from bot.dialogs.base import Outcome, Turn, plain
from bot.dialogs.handoff import debtor_said, hand_off
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

# Those who write for a debtor: kin and carers, English and Spanish, accents dropped.
_KIN = (r"(?:mom|mum|mother|mama|dad|father|papa|parents?|husband|wife|spouse|partner|sons?"
        r"|daughters?|grand(?:ma|mother|pa|father|son|daughter)|granny|brother|sister|aunt"
        r"|uncle|niece|nephew|(?:mother|father|son|daughter)-in-law|caregiver|caretaker"
        r"|guardian|representative|mami|madre|papi|padre|espos[oa]|marido|hij[oa]"
        r"|abuel(?:it)?[oa]|herman[oa]|ti[oa]|suegr[oa]|niet[oa]|sobrin[oa]|cuidador[a]?"
        r"|tutor[a]?|representante)")
# What reached the debtor's phone, as a relative names it ("my mom got this text").
_NOTICE = (r"(?:texts?|messages?|msgs?|sms|letters?|notices?|calls?|emails?|mails?|mensajes?"
           r"|textos?|cartas?|avisos?|correos?|llamadas?)")
# Someone writing FOR the debtor, not a wrong number: "this is her daughter", "my mom got
# this text", "I handle her bills", "power of attorney", "soy su hija", "de parte de mi papá".
_FOR_THE_DEBTOR = re.compile(r"\b(?:" + "|".join((
    rf"(?:this is|it'?s|i'?m|i am|im) (?:his|her|their) {_KIN}",
    rf"(?:my|our) {_KIN} (?:got|gets|received|receives|has been getting|is getting)"
    rf" (?:this|these|that|your|a|the|an) {_NOTICE}",
    r"on (?:his|her|their) behalf", rf"on behalf of (?:my|our) {_KIN}",
    r"i (?:handle|manage|take care of|look after|pay|do) (?:all )?(?:his|her|their)"
    r" (?:bills|finances|affairs|money|accounts|mail)",
    r"power of attorney", r"\bpoa\b", r"conservator\w*", r"legal guardian",
    rf"soy su {_KIN}", rf"(?:mi|nuestr[oa]) {_KIN} (?:recibio|recibe|ha recibido)"
    rf" (?:este|estos|esta|su|sus|un|una|el|los) {_NOTICE}",
    rf"de parte de (?:mi|nuestr[oa]) {_KIN}",
    rf"en nombre de (?:mi|nuestr[oa]) {_KIN}",
    r"(?:(?:le|les) (?:manejo|llevo|administro|pago) (?:sus|las)"
    r"|(?:manejo|llevo|administro|pago) sus) (?:cuentas|finanzas|deudas|pagos)",
    r"poder notarial",
)) + r")\b")
# An account holder who cannot see to their own affairs: a vulnerable customer.
_INCAPACITY = re.compile(r"\b(?:" + "|".join((
    r"dementia", r"alzheimer'?s?", r"incapacit\w*", r"incompetent", r"stroke", r"coma",
    r"hospital\w*", r"hospice", r"nursing home", r"illness", r"ill", r"sick", r"cancer",
    r"disabilit\w*", r"disabled", r"memory", r"can(?:'?t| ?not) (?:handle|manage|take care of)",
    r"demencia", r"incapacidad", r"incapacitad[oa]", r"enferm\w*", r"asilo", r"derrame",
    r"no puede (?:manejar|encargarse|hacerse cargo)", r"residencia de ancianos",
)) + r")\b")
# The debtor's own death, which stays the deceased stop whoever tells it.
_DEATH = re.compile(r"\b(?:pass(?:ed)? away|passed|died|dead|death|deceased|funeral|late"
                    r"|falleci\w*|murio|muerte|muert[oa]|difunt[oa])\b")
# A lawyer for the debtor (attorney_represented), not a relative holding a power of attorney.
_LAWYER = re.compile(r"\b(?:lawyer|law (?:firm|office)|attorney at law|represent\w*|counsel"
                     r"|(?:my|our|his|her|their) attorney|abogad[oa])\b")
# Readings that record more than a relative's message would, kept whoever writes them.
_KEPT_FROM_ANYONE = frozenset({"opt_out", "bankruptcy", "dispute_debt", "already_paid",
                               "complaint"})


# A person not verified may not be the debtor: their acknowledgement echoes no lawyer or
# bankruptcy, which would tell a relative there is something to be represented in.
NAMED_WHEN_VERIFIED = frozenset({"attorney", "bankruptcy"})


def stop(out: Outcome, turn: Turn, verified: bool = False) -> Outcome:
    """Set the stop-state with the details offered; one acknowledgement, then silence."""
    if writes_for_debtor(turn):
        return for_the_debtor(out, turn)
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


def wrong_person(out: Outcome, turn: Turn) -> Outcome:
    """Apologise without a word about any debt; never write to this address again. Someone
    writing for the debtor has reached the debtor's address: it stays theirs."""
    if writes_for_debtor(turn):
        return for_the_debtor(out, turn)
    if out.state.stopped:
        return out
    out.state.stopped = True
    out.state.clear_table()
    out.do(MarkWrongParty(), Audit("contact.wrong_party"))
    return out.say("wrong_person.apology", purpose=Purpose.STOP_ACKNOWLEDGEMENT)


def writes_for_debtor(turn: Turn) -> bool:
    """The writer speaks for the debtor (a relative, a carer, a power of attorney), and the
    reading is no statement that binds whoever makes it: not the debtor's death, not a lawyer."""
    text = plain(turn.text)
    if turn.intent in _KEPT_FROM_ANYONE or not _FOR_THE_DEBTOR.search(text):
        return False
    if turn.intent == "deceased":
        return not _DEATH.search(text)
    if turn.intent == "attorney_represented":
        return not _LAWYER.search(text)
    return True


def for_the_debtor(out: Outcome, turn: Turn) -> Outcome:
    """Nothing about the account to someone writing for the debtor, and nothing marked wrong
    party: a person follows up, from the hardship queue when the debtor cannot see to their
    own affairs (a vulnerable customer)."""
    # compliance.md item 9 (FDCPA 805(b), 15 U.S.C. 1692c(b)): the account is discussed with
    # the debtor only, so a check passed on this conversation no longer speaks for the writer.
    out.state.verified_until = None
    vulnerable = _INCAPACITY.search(plain(turn.text))
    facts = ["writes for the debtor", *([f"incapacity: {vulnerable.group(0)}"] if vulnerable
                                        else [])]
    out.do(Audit("contact.third_party"))
    return hand_off(out, "third_party", key="wrong_person.for_account_holder",
                    queue="hardship" if vulnerable else "general", priority=1 if vulnerable else 0,
                    note=debtor_said(out, turn, *facts))


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
