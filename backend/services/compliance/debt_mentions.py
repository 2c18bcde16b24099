"""What a message's own words say about a debt: amounts, debt words and threats, en and es."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# compliance.md A.2 item 9: before right-party verification no message may carry the amount,
# the creditor, the account number, or words such as "debt", "collection", "past due".
# One list, English and Spanish, for the strategy check and the gate alike.
DEBT_WORDS: dict[str, tuple[str, ...]] = {
    "en": (
        r"debts?", r"indebted(?:ness)?", r"owe[sd]?", r"owing", r"past[\s-]+due", r"overdue",
        r"balances?", r"collections?", r"collectors?", r"arrears", r"delinquen(?:t|cy)",
    ),
    "es": (
        r"deudas?", r"deudor(?:a|es|as)?", r"adeud\w*",
        # "debe" alone is also "must" ("debe confirmar su identidad"): only as owing.
        r"(?:lo\s+que|le)\s+(?:usted\s+)?debe", r"saldos?", r"vencid[oa]s?",
        r"atras(?:o|os|ad[oa]s?)", r"morosos?|morosidad", r"cobranzas?", r"cobrador(?:a|es|as)?",
    ),
}
# compliance.md A.4 item 19 (12 CFR 1006.18, 15 U.S.C. 1692e): no threat of arrest, seizure,
# garnishment or legal action, which a template sent to everyone cannot know to be lawful
# and intended.
THREAT_WORDS: dict[str, tuple[str, ...]] = {
    "en": (
        r"legal\s+(?:action|proceedings?|steps?|measures?)", r"lawsuits?", r"su(?:e|ed|es|ing)",
        r"courts?", r"garnish\w*", r"arrest\w*", r"jail", r"prison", r"imprison\w*",
        r"police", r"criminal", r"seiz(?:e|ed|ure)", r"repossess\w*",
    ),
    "es": (
        r"(?:acci[oó]n|acciones|medidas|v[ií]as?)\s+(?:legal|legales|judicial|judiciales)",
        r"demanda\w*", r"embarg\w*", r"juicios?", r"tribunal(?:es)?", r"juzgados?",
        r"arrest\w*", r"c[aá]rcel", r"prisi[oó]n", r"polic[ií]a", r"denuncia\w*",
    ),
}
_CURRENCY_CODES = r"USD|EUR|GBP|MXN|CAD"
_CURRENCY_WORDS = r"dollars?|euros?|d[oó]lar(?:es)?|pesos?"
_NUMBER = r"\d(?:[\d.,]*\d)?"
# An amount needs a currency beside it: dates, ZIP codes and counts are not money.
MONEY = re.compile(
    rf"(?:[$€£]|US\$|\b(?:{_CURRENCY_CODES}))\s?{_NUMBER}"
    rf"|{_NUMBER}\s?(?:[$€£]|(?:{_CURRENCY_CODES}|{_CURRENCY_WORDS})\b)",
    re.IGNORECASE,
)
URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
MIN_TERM_LENGTH = 3  # a shorter creditor name or reference would match ordinary words


def _words(lists: dict[str, tuple[str, ...]]) -> re.Pattern[str]:
    alternatives = "|".join(word for words in lists.values() for word in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


DEBT = _words(DEBT_WORDS)
THREAT = _words(THREAT_WORDS)


@dataclass(frozen=True)
class Mention:
    """What was found: its kind (amount, debt_word, threat, account) and the words as written."""

    kind: str
    found: str


def debt_mention(text: str, account_terms: Iterable[str | None] = ()) -> Mention | None:
    """The first thing in `text` (by position) that tells its reader there is a debt, if any.

    `account_terms` are the account's own names (creditor, account reference), when known.
    """
    text = URL.sub(" ", text)  # a link's random token is no word
    found = [(match.start(), Mention(kind, match.group(0)))
             for kind, pattern in (("amount", MONEY), ("debt_word", DEBT),
                                   ("account", _terms_pattern(account_terms)))
             if pattern is not None and (match := pattern.search(text))]
    return min(found, key=lambda f: f[0])[1] if found else None


def threat_mention(text: str) -> Mention | None:
    """The first threat of legal or physical action in `text`, if any."""
    found = THREAT.search(URL.sub(" ", text))
    return Mention("threat", found.group(0)) if found else None


def _terms_pattern(terms: Iterable[str | None]) -> re.Pattern[str] | None:
    usable = sorted({t.strip() for t in terms if t and len(t.strip()) >= MIN_TERM_LENGTH},
                    key=len, reverse=True)
    if not usable:
        return None
    alternatives = "|".join(re.escape(t) for t in usable)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
