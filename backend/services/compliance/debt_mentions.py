"""What a message's own words say about a debt: amounts, debt words and threats, en and es."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Payment words, and the words that make a payment an obligation (late, pending, missed).
_PAY_EN = r"pay(?:s|ing|ments?)?|paid|installments?|bills?|invoices?"
_LATE_EN = r"late|due|overdue|pending|missed|outstanding|behind"
_PAY_ES = r"pagos?|cuotas?|facturas?|montos?|importes?|cantidad(?:es)?|mensualidad(?:es)?"
_LATE_ES = r"pendientes?|atrasad[oa]s?|retrasad[oa]s?|vencid[oa]s?|tarde|sin\s+pagar"
# "debe confirmar", "debe usted enviarnos": an infinitive after "debe" makes it "must".
_INFINITIVE = (r"\s+(?:de\s+)?(?:usted\s+)?\w+(?:ar|er|ir|ár|ér|ír)"
               r"(?:se|lo|la|le|los|las|les|nos|me|te)?\b")
# compliance.md A.2 item 9: before right-party verification no message may carry the amount,
# the creditor, the account number, or words such as "debt", "collection", "past due".
# One list, English and Spanish, for the strategy check and the gate alike.
DEBT_WORDS: dict[str, tuple[str, ...]] = {
    "en": (
        r"debts?", r"indebted(?:ness)?", r"owe[sd]?", r"owing", r"past[\s-]+due", r"overdue",
        r"balances?", r"collections?", r"collectors?", r"arrears", r"delinquen(?:t|cy)",
        # "due to the holiday" is no obligation.
        r"due(?!\s+to\b)", r"unpaid", r"(?:need|needs|have|has|must|got)\s+to\s+pay",
        r"pay\s+(?:now|today|off|it|this|that|the\s+rest|in\s+full)", r"payoff",
        rf"(?:{_LATE_EN})\W+(?:(?:a|an|the|your|this|that)\W+)?(?:{_PAY_EN})",
    ),
    "es": (
        r"deudas?", r"deudor(?:a|es|as)?", r"adeud\w*", r"impagos?", r"en\s+mora",
        # "debe" is also "must" ("debe confirmar su identidad"): not before an infinitive.
        r"(?:lo\s+que|le)\s+(?:usted\s+)?debe", rf"deb(?:e|es|en|[ií]a)(?!{_INFINITIVE})",
        r"deb(?:e|es|en)\s+pagar", r"(?:tiene|tienes|tienen|hay)\s+que\s+pagar",
        r"saldos?", r"vencid[oa]s?", r"atras(?:o|os|ad[oa]s?)", r"morosos?|morosidad",
        r"cobranzas?", r"cobrador(?:a|es|as)?", r"cobros?(?!\s+revertido)",
        rf"(?:{_LATE_ES})\W+de\W+pago",
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
# A bare number is money where a payment surrounds it: "pay 500", "pago a Zeta de 500",
# "500 this week"; not a time ("at 5 today"), a date (03/14/1985) or a phone number.
_BARE = r"(?<![\w/.:,$€£-])(?<!\d\s)\d(?:[\d.,]*\d)?(?![\w/:]|[.,]\d|\s?(?:am|pm|h|hrs?)\b)"
_AMOUNT_WORDS = (r"pay(?:s|ing|ments?)?|paid|repay\w*|installments?|amount|sum"
                 r"|pag(?:ar|ue|uen|o|os|ó|ado)|abon\w*|cuotas?|montos?|importes?|cantidad")
_DEADLINE = (r"today|tonight|tomorrow|now|this\s+(?:week|month|friday|weekend)"
             r"|by\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|the\s+end)"
             r"|hoy|ma[ñn]ana|ya|ahora|esta\s+semana|este\s+(?:mes|viernes)|antes\s+del?")
# The reported words (group "w") are the amount or the lateness, as a word list would find.
PAID_AMOUNT = re.compile(
    rf"(?<!\w)(?:{_AMOUNT_WORDS})(?:\W+(?!(?:at|a\s+las?)\b)[^\W\d]+){{0,3}}?\W+(?P<w>{_BARE})",
    re.IGNORECASE,
)
AMOUNT_BY_DEADLINE = re.compile(
    rf"(?<!\bat\s)(?<!\blas\s){_BARE}\s+(?:{_DEADLINE})(?!\w)", re.IGNORECASE)
PAYMENT_LATE = re.compile(
    rf"(?<!\w)(?:{_PAY_EN}|{_PAY_ES})(?:\W+\w+){{0,3}}?\W+(?P<w>{_LATE_EN}|{_LATE_ES})(?!\w)",
    re.IGNORECASE,
)
# "account ending 4821", "cuenta terminada en 4821", "card no. ****4821": a number's fragment.
ACCOUNT_FRAGMENT = re.compile(
    r"(?<!\w)(?:account|acct|a/c|card|reference|ref|file|cuenta|tarjeta|referencia|expediente)"
    r"\W{0,3}(?:(?:number|no|n[uú]mero|ending(?:\s+in)?|terminad[ao]\s+en|que\s+termina\s+en)"
    r"\W{0,3})*[*xX•#]*\d{3,}(?!\w)"
    r"|(?<!\w)(?:ending\s+in|terminad[ao]\s+en)\s+[*xX•#]*\d{3,}(?!\w)",
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
    patterns = (("amount", MONEY), ("amount", PAID_AMOUNT), ("amount", AMOUNT_BY_DEADLINE),
                ("debt_word", DEBT), ("debt_word", PAYMENT_LATE),
                ("account", ACCOUNT_FRAGMENT), ("account", _terms_pattern(account_terms)))
    found = [_found(kind, match) for kind, pattern in patterns
             if pattern is not None and (match := pattern.search(text))]
    return min(found, key=lambda f: f[0])[1] if found else None


def _found(kind: str, match: re.Match[str]) -> tuple[int, Mention]:
    """Where the telling words start, and them: group "w" when the pattern names them."""
    group = "w" if "w" in match.re.groupindex else 0
    return match.start(group), Mention(kind, match.group(group))


def threat_mention(text: str) -> Mention | None:
    """The first threat of legal or physical action in `text`, if any."""
    found = THREAT.search(URL.sub(" ", text))
    return Mention("threat", found.group(0)) if found else None


# Words many creditors' names share: "Zeta" names Zeta Card, "Card" names no one.
GENERIC_NAME_WORDS = frozenset({
    "the", "and", "of", "for", "de", "del", "la", "las", "el", "los", "y", "e", "inc", "llc",
    "ltd", "lp", "llp", "plc", "co", "corp", "corporation", "company", "compania", "compañía",
    "cia", "cía", "sa", "cv", "sas", "srl", "group", "grupo", "holding", "holdings", "card",
    "cards", "tarjeta", "tarjetas", "bank", "banks", "banco", "bancorp", "financial", "finance",
    "financiera", "financiero", "services", "service", "servicios", "credit", "credito", "crédito",
    "lending", "loan", "loans", "prestamos", "préstamos", "capital", "trust", "federal",
    "national", "nacional", "union", "savings", "mortgage", "auto", "home", "first", "one",
    "america", "american", "usa", "collections", "recovery", "funding", "fund", "payments", "pay",
    "solutions", "management", "partners", "associates", "international", "global", "retail",
    "store", "stores", "team"
})


def _terms_pattern(terms: Iterable[str | None]) -> re.Pattern[str] | None:
    usable = sorted({part for t in terms if t for part in _term_parts(t.strip())},
                    key=len, reverse=True)
    if not usable:
        return None
    alternatives = "|".join(re.escape(t) for t in usable)
    return re.compile(rf"(?<![\w/.-])(?:{alternatives})(?![\w/-]|\.\w)", re.IGNORECASE)


def _term_parts(term: str) -> set[str]:
    """The term, its distinctive name words, and the runs of its reference with a digit."""
    parts = {term} | {w for w in re.findall(r"\w+", term)
                      if w.casefold() not in GENERIC_NAME_WORDS
                      and (not w.isdigit() or len(w) >= 4)}
    return {p for p in parts if len(p) >= MIN_TERM_LENGTH}
