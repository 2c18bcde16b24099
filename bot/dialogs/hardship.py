"""Hardship: acknowledge with care, offer what the policy allows, or a person."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from bot.dialogs.base import Outcome, Turn
from bot.dialogs.handoff import HARDSHIP_ASK, debtor_said, hand_off, in_hardship
from bot.dialogs.negotiation import judge_of, present_options, terms_for
from bot.effects import SetHardship
from bot.facts import Facts, Offer, Request

# Circumstances that make asking for more time a hardship (docs/TAXONOMY.md: "I can't pay"
# with a circumstance is hardship): English and Spanish, accents already dropped.
_CIRCUMSTANCE = re.compile(r"\b(?:" + "|".join((
    r"lost (?:my|his|her|our) (?:job|work|income)", r"laid off", r"(?:got|been|was) fired",
    r"unemployed", r"out of work", r"no (?:job|income|work)", r"hospital\w*", r"surgery",
    r"illness", r"cancer", r"chemo\w*", r"disabilit\w*", r"injur\w*", r"divorc\w*",
    r"passed away", r"funeral", r"death in (?:the|my) family", r"evict\w*",
    r"perdi (?:mi|el) (?:trabajo|empleo|chamba)", r"me quede sin (?:trabajo|empleo|chamba)",
    r"me (?:despidieron|corrieron)", r"desemplead[oa]", r"sin (?:trabajo|empleo|ingresos)",
    r"enferm\w*", r"cirugia", r"operacion", r"accidente", r"incapacidad",
    r"fallec\w*", r"murio", r"desalo\w*",
)) + r")\b")
_WORD = re.compile(r"[^\W\d_]")  # a letter: words, not only an option's number
# Readings the circumstance turns into a hardship: more time without a day to pay on.
MORE_TIME = frozenset({"request_extension"})

# Someone close to the debtor, in English and Spanish, accents dropped: whose death, told by
# the verified debtor, is a bereavement (a hardship), not the debtor's own death.
_KIN = "|".join((
    r"husband", r"wife", r"spouse", r"partner", r"fiancee?", r"boyfriend", r"girlfriend",
    r"dad(?:dy)?", r"father", r"mom(?:my)?", r"mum", r"mother", r"parents?", r"sons?",
    r"daughters?", r"child(?:ren)?", r"kids?", r"baby", r"brothers?", r"sisters?",
    r"siblings?", r"grand(?:ma|mother|pa|father|parents?|son|daughter|child(?:ren)?)",
    r"granny", r"uncle", r"aunt(?:ie)?", r"cousin", r"niece", r"nephew",
    r"(?:mother|father|brother|sister|son|daughter)-in-law", r"in-laws?",
    r"step(?:dad|father|mom|mother|son|daughter)", r"(?:best |close )?friend",
    r"espos[oa]", r"marido", r"mujer", r"pareja", r"novi[oa]", r"prometid[oa]",
    r"papa", r"papi", r"padres?", r"mama", r"mami", r"madre", r"hij[oa]s?", r"bebe",
    r"herman[oa]s?", r"abuel(?:it)?[oa]s?", r"niet[oa]s?", r"ti[oa]s?", r"prim[oa]s?",
    r"sobrin[oa]s?", r"suegr[oa]s?", r"cunad[oa]s?", r"yerno", r"nuera", r"padrastro",
    r"madrastra", r"amig[oa]s?",
))
_SOMEONE_ELSE = re.compile(r"\b(?:" + "|".join((
    rf"(?:my|our) (?:late |dear |beloved )?(?:{_KIN})",
    r"(?:a|another) (?:family member|relative|loved one|(?:close )?friend)",
    r"someone (?:in|from) my family", r"death in (?:the|my) family",
    rf"(?:mi|mis|nuestr[oa]s?) (?:difunt[oa] |querid[oa] )?(?:{_KIN})",
    r"una? (?:familiar|pariente|ser querido|amig[oa])", r"alguien de (?:mi|la) familia",
)) + r")\b")
# Words that make the one who died the account holder ("this was his account", "el
# titular", "I'm her daughter"): the debtor's death then, whoever tells it.
_HOLDER = re.compile(r"\b(?:" + "|".join((
    r"account ?holder", r"card ?holder", r"(?:the|a) debtor", r"borrower",
    r"(?:his|her|their) (?:account|debt|loan|card|balance|bill)s?",
    rf"(?:my|our) (?:{_KIN})'?s (?:account|debt|loan|card|balance|bill)s?",
    rf"(?:account|debt|loan|card|balance|bill) (?:was|is) (?:his|hers|theirs"
    rf"|(?:my|our) (?:{_KIN})'?s)",
    r"in (?:his|her|their) name", r"(?:he|she|they) (?:owed|owes)",
    r"(?:he|she|they) had (?:this|that|the|an) (?:account|debt|loan|card)",
    r"on (?:his|her|their) behalf", r"on behalf of", r"(?:his|her|the) estate",
    r"execut(?:or|rix)", rf"(?:i'?m|i am) (?:his|her|their) (?:{_KIN}|representative)",
    r"titular", r"(?:cuenta|deuda|tarjeta|prestamo|credito) (?:era|es|esta|estaba)"
    r"(?: a nombre)? (?:de|suy[oa])",
    r"su (?:cuenta|deuda|tarjeta|prestamo|credito)", r"(?:a|en) nombre de", r"a su nombre",
    r"de parte de", r"(?:el|ella) (?:debia|debe)", r"albacea",
    rf"soy su (?:{_KIN}|representante)",
)) + r")\b")
# "I'm the account holder" says who writes, not who died.
_SELF_AS_HOLDER = re.compile(
    r"\b(?:i'?m|i am) the (?:account ?holder|card ?holder|debtor)\b(?!'s)"
    r"|\bsoy (?:el|la) titular\b")


def as_hardship(turn: Turn) -> Turn:
    """"I need more time, I lost my job" asks for what a hardship gives (a pause, the smallest
    plan, the hardship hold on reminders), not for a later due date."""
    if turn.intent not in MORE_TIME or turn.date() is not None:
        return turn
    return replace(turn, intent="hardship") if _CIRCUMSTANCE.search(_plain(turn.text)) else turn


def mourns_another(text: str) -> bool:
    """A death told as someone else's ("my dad passed", "mi mamá falleció"), not the account
    holder's ("my husband passed away, this was his account", "el titular falleció")."""
    plain = _SELF_AS_HOLDER.sub(" ", _plain(text))
    return bool(_SOMEONE_ELSE.search(plain)) and not _HOLDER.search(plain)


def bereavement(out: Outcome, turn: Turn) -> Outcome:
    """Condolences to the verified debtor who lost someone: a hardship a person looks at with
    them, never the stop that a death of the debtor is."""
    out.do(SetHardship(turn.text))
    # Always a person, whatever the policy: no plans to a mourner in the same breath, and a
    # relative who verified with the debtor's details is read by someone who can tell.
    return hand_off(out, "hardship", key="hardship.bereaved", queue="hardship", priority=1,
                    note=debtor_said(out, turn, "bereavement"))


def hardship(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """Record the hardship; offer the smallest plan and a pause, or hand off per policy."""
    out.do(SetHardship(turn.text))
    if facts.policy.hardship_handoff:
        return hand_off(out, "hardship", key="hardship.handoff", queue="hardship", priority=1,
                        note=debtor_said(out, turn, *_circumstance(turn)))
    present_options(out, facts, hardship_options(facts), "hardship.options")
    if in_hardship(out.state):
        out.state.hardship_note = debtor_said(out, turn, *_circumstance(turn))
    return out


def to_a_person(out: Outcome, turn: Turn) -> Outcome:
    """A person chosen from the hardship options: the hardship queue, whose people may agree
    a hardship arrangement, noted with the circumstance the debtor told; their words now
    too, unless only the option's number ("3" tells the agent nothing)."""
    told = out.state.hardship_note
    if _WORD.search(turn.text):
        told = "; ".join(filter(None, (debtor_said(out, turn), f"earlier, {told}")))
    return hand_off(out, "hardship", queue="hardship", priority=1,
                    note="; ".join(filter(None, (told, HARDSHIP_ASK))))


def _circumstance(turn: Turn) -> tuple[str, ...]:
    """The circumstance named in the message ("perdí mi trabajo"), as the note's fact."""
    found = _CIRCUMSTANCE.search(_plain(turn.text))
    return (f"circumstance: {found.group(0)}",) if found else ()


def hardship_options(facts: Facts) -> list[Offer]:
    """The most affordable hardship plan and a pause (an extension under hardship bounds)."""
    terms = replace(facts.terms, hardship=True)
    judge = judge_of(facts)
    plans = [o for o in judge.proposals(terms) if o.kind == "plan"]
    # A pause is for what pending promises leave, as any extension.
    rest = replace(terms_for(facts, kind="extension"), hardship=True)
    pause = judge.answer("extension", Request(), rest).offer if rest.balance > 0 else None
    return [*plans[-1:], *([pause] if pause else [])]


def _plain(text: str) -> str:
    """Lower case, accents dropped, a typographic apostrophe made plain ("dad’s")."""
    text = text.replace("\u2019", "'")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
