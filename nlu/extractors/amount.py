"""Money amounts: "$50", "50 bucks", "fifty dollars", "1,200.50", "1.2k", "2 mil", "pagar cien"."""

from __future__ import annotations

import re
from decimal import Decimal

from nlu.extractors.match import Match
from nlu.extractors.numbers import DIGITS, NUMBER_WORDS, strip_accents, to_number, words_to_int

_CURRENCY_WORDS = {
    "dollar": "USD", "dollars": "USD", "buck": "USD", "bucks": "USD", "usd": "USD",
    "dolar": "USD", "dolares": "USD", "dlls": "USD", "dls": "USD", "dll": "USD",
    "euro": "EUR", "euros": "EUR", "eur": "EUR", "pound": "GBP", "pounds": "GBP",
    "quid": "GBP", "gbp": "GBP", "pesos": None, "peso": None, "bucks.": "USD",
}
# A bare "pesos" keeps no currency: Mexico, Colombia, Chile, Argentina … all write their money
# so, and bot/dialogs/currency.py takes it as the account's own peso (PESO_CURRENCIES); MXN here
# would refuse a Colombian's "50 mil pesos" on a COP account. Only words naming the country, or
# Mexico's own "MXN" / "M.N." (moneda nacional), give the ISO code.
_PESO_COUNTRIES = {
    "mexicano": "MXN", "mexicanos": "MXN", "colombiano": "COP", "colombianos": "COP",
    "chileno": "CLP", "chilenos": "CLP", "argentino": "ARS", "argentinos": "ARS",
}
_SYMBOLS = {"$": "USD", "us$": "USD", "usd": "USD", "€": "EUR", "eur": "EUR", "£": "GBP",
            "mxn": "MXN", "mxn$": "MXN", "mx$": "MXN"}
_NATIONAL = r"m\.\s?n\.?"  # "$1,500.00 M.N.", as Mexican receipts write pesos
_PESO_OF = rf"pesos?\s+(?:{'|'.join(_PESO_COUNTRIES)})\b|pesos?\s+{_NATIONAL}"
_WORD_ALT = (rf"{_PESO_OF}|dollars?|d[oó]lares|d[oó]lar|bucks?|usd|dlls?|dls|euros?|eur|"
             rf"pounds?|quid|gbp|pesos?|mxn|{_NATIONAL}")
_SYMBOL_ALT = r"us\$|mxn\s?\$|mx\$|\$|€|£|usd\s?|eur\s?|mxn\s?"
# "$500 MXN": the code after the "$" says whose dollar sign it is.
_CODE_AFTER = rf"(?:\s?(?P<code>mxn|{_NATIONAL})(?!\w))?"
_NUM = rf"(?:{DIGITS})"
# "2 mil" is 2000, "2 mil quinientos" and "2 mil 500" 2500, as "2k" is 2000; so in English
# "2 thousand 500". Not "te pago 2 mil una vez": "una" counts the times, it adds nothing.
_MIL = (rf"\s+(?:mil|thousand)\b(?:\s+(?:and\s+)?(?!(?:un|una|uno|a|an|one)\b)"
        rf"(?P<rest>{NUMBER_WORDS}|[1-9]\d{{2}}(?![\d.,]))(?!\w))?")
_K = rf"(?:\s?k\b|\s?grand\b|{_MIL})"
# "20 dollars 50 cents", "$20 and 50 cents", "20 dolares con 50 centavos": the cents belong
# to the amount before them (20.50), they are no second amount of 50.
_CENTS_WORD = r"(?:cents?|centavos?|c[eé]ntimos?|¢)"
_CENTS = (rf"(?:\s*,?\s*(?:(?:and|y|con|with|&)\s*)?"
          rf"(?P<cents>\d{{1,2}}|{NUMBER_WORDS})\s?{_CENTS_WORD}(?!\w))?")
# The lookahead refuses a partial number: "$12.3456" is not "$12.345" (nor "$12.34").
_PREFIXED = re.compile(
    rf"(?P<sym>{_SYMBOL_ALT})\s?(?P<num>{_NUM})(?![.,]?\d)(?P<k>{_K})?{_CENTS}{_CODE_AFTER}",
    re.I,
)
_SUFFIXED = re.compile(
    rf"(?<![\w/.,:])(?P<num>{_NUM}|{NUMBER_WORDS})(?P<k>{_K})?\s?(?P<cur>{_WORD_ALT}|\$|€|£)"
    rf"(?!\w){_CENTS}",
    re.I,
)
_KILO = re.compile(rf"(?<![\w/.,:$€£])(?P<num>{_NUM})(?P<k>k\b|{_MIL})", re.I)
_NOT_MONEY_AFTER = re.compile(
    r"^\s?(?:%|percent|por ?ciento|am\b|pm\b|a\.m|p\.m|hrs?\b|hours?\b|horas?\b|min|days?\b|"
    r"d[ií]as?\b|weeks?\b|semanas?\b|months?\b|meses\b|mes\b|years?\b|a[ñn]os?\b|kids?\b|"
    r"children\b|hijos?\b|payments?\b|pagos?\b|installments?\b|instalments?\b|cuotas?\b|"
    r"plazos?\b|parts?\b|partes\b|times\b|veces\b|x\b|st\b|nd\b|rd\b|th\b|o'?clock|:\d|mos?\b|"
    r"cents?\b|centavos?\b|c[eé]ntimos?\b|¢|"
    r"/(?!\s?(?:mo|month|mes|wk|week|semana)\b))",
    re.I,
)
# A number right after these is a zip code or a phone number, whatever its size.
_NOT_MONEY_BEFORE = re.compile(
    r"\b(?:zip(?:\s*code)?|c[oó]digo\s+postal|c\.?p\.?|call(?:\s+me)?(?:\s+at)?|"
    r"ll[aá]ma(?:me)?(?:\s+al)?|tel(?:[eé]fono)?|phone(?:\s+number)?|n[uú]mero|number|cel"
    r"(?:ular)?)\.?(?:\s+(?:is|es))?\s*[:#]?\s*$",
    re.I,
)
# Number words after a pay verb: "puedo pagar cien" is 100; "puedo pagar dos" may count
# anything (payments, weeks), so words under a hundred stay no amount.
_PAY_WORDS = re.compile(
    r"\b(?:pay|give|send|pago|pagar|pagar[eé]|pagarle|pagarte|doy|dar|darle|darte|deposito|"
    r"depositar|depositarle|mando|mandar|abono|abonar)\s+(?:(?:you|u|them|him|her)\s+)?"
    rf"(?P<num>{NUMBER_WORDS})(?!\w)",
    re.I,
)
# A hundred or more in words, no pay verb needed: "doscientos cincuenta el 15", "mil
# quinientos"; not a year ("en el dos mil veinte") nor the "ciento" of "cien por ciento".
_BARE_WORDS = re.compile(rf"(?<![\w$€£])(?P<num>{NUMBER_WORDS})(?!\w)", re.I)
_NOT_WORDS_BEFORE = re.compile(
    r"\b(?:a[ñn]o|year|del?|in|en|(?:en|desde|hasta) el|since|desde|por)\s+$", re.I)
_CLOCK_BEFORE = re.compile(r"(?:\bat|\ba las|\bas|@|\ba la)\s*$", re.I)
_BARE_NUMBER = re.compile(rf"(?<![\w/.,:#@$€£+-])(?P<num>{_NUM})(?![\w.,]*\d)(?!\w)")


def extract_amounts(text: str, language: str | None = None) -> list[Match]:
    """Every money amount candidate in `text`.

    `language` ('en'/'es') decides a dot followed by exactly three digits: thousands in
    Spanish ("te pago 1.500" → 1500.00), ambiguous in English or unknown ("12.345" → no
    amount, never 12345.00; see `digits_to_decimal`). Phone and case numbers are dropped
    later, in `extract_entities` (see `nlu.extractors.identifiers`).
    """
    found = [*_prefixed(text, language), *_suffixed(text, language), *_kilo(text, language)]
    taken = [(m.start, m.end) for m in found]
    found.extend(m for m in _pay_words(text) if not _overlaps(m, taken))
    taken = [(m.start, m.end) for m in found]
    found.extend(m for m in _bare_words(text) if not _overlaps(m, taken))
    taken = [(m.start, m.end) for m in found]
    found.extend(m for m in _bare(text, language) if not _overlaps(m, taken))
    return found


def _prefixed(text: str, language: str | None) -> list[Match]:
    matches = []
    for m in _PREFIXED.finditer(text):
        currency = "MXN" if m.group("code") else _SYMBOLS.get(_squeezed(m.group("sym")))
        matches.extend(_amount(m, text, currency, language))
    return matches


def _suffixed(text: str, language: str | None) -> list[Match]:
    matches = []
    for m in _SUFFIXED.finditer(text):
        matches.extend(_amount(m, text, _currency_of_word(m.group("cur")), language))
    return matches


def _currency_of_word(word: str) -> str | None:
    """"dólares" → USD, "pesos mexicanos" and "M.N." → MXN, a bare "pesos" → None."""
    words = strip_accents(word.lower()).split()
    if words[0].startswith("m."):
        return "MXN"
    if len(words) > 1:
        return _PESO_COUNTRIES.get(words[-1], "MXN")  # the other is "m.n."
    return _CURRENCY_WORDS.get(words[0], _SYMBOLS.get(words[0]))


def _squeezed(symbol: str) -> str:
    """"MXN $" → "mxn$": the symbol as _SYMBOLS spells it."""
    return re.sub(r"\s", "", symbol).lower()


def _kilo(text: str, language: str | None) -> list[Match]:
    return [a for m in _KILO.finditer(text) for a in _amount(m, text, None, language)]


def _pay_words(text: str) -> list[Match]:
    matches = []
    for m in _PAY_WORDS.finditer(text):
        value = words_to_int(m.group("num"))
        if value is not None and value >= 100 and not _NOT_MONEY_AFTER.match(text[m.end():]):
            matches.append(Match("amount", m.start("num"), m.end("num"), f"{value}.00"))
    return matches


def _bare_words(text: str) -> list[Match]:
    matches = []
    for m in _BARE_WORDS.finditer(text):
        value = words_to_int(m.group("num"))
        if value is None or value < 100 or _NOT_MONEY_AFTER.match(text[m.end():]) \
                or _NOT_WORDS_BEFORE.search(text[:m.start()]):
            continue
        matches.append(Match("amount", m.start("num"), m.end("num"), f"{value}.00"))
    return matches


def _bare(text: str, language: str | None) -> list[Match]:
    matches = []
    for m in _BARE_NUMBER.finditer(text):
        raw = m.group("num")
        before = text[:m.start()]
        if _NOT_MONEY_AFTER.match(text[m.end():]) or _CLOCK_BEFORE.search(before) \
                or _NOT_MONEY_BEFORE.search(before):
            continue
        digits = re.sub(r"\D", "", raw)
        if len(digits) < 2 or len(digits) > 7 or raw.startswith("0"):
            continue
        matches.extend(_amount(m, text, None, language))
    return matches


def _amount(
    m: re.Match[str], text: str, currency: str | None, language: str | None
) -> list[Match]:
    value = to_number(m.group("num"), language)
    if value is None or value <= 0:
        return []
    cents = m.groupdict().get("cents")
    if cents:
        value = _with_cents(value, cents, bool(m.groupdict().get("k")))
        if value is None:
            return []
    if m.groupdict().get("k"):
        value *= 1000
        rest = m.groupdict().get("rest")
        if rest:
            added = int(rest) if rest.isdigit() else words_to_int(rest)
            if added is None or not 0 < added < 1000:
                return []
            value += added
    start, end = m.start(), m.end()
    while end > start and text[end - 1].isspace():
        end -= 1
    return [Match("amount", start, end, f"{value.quantize(Decimal('0.01'))}", currency)]


def _with_cents(value: Decimal, cents: str, thousands: bool) -> Decimal | None:
    """Whole units plus 0-99 cents; None for "$20.50 and 50 cents" or "2k 50 cents"."""
    added = int(cents) if cents.isdigit() else words_to_int(cents)
    if thousands or value != value.to_integral_value() or added is None or not 0 <= added < 100:
        return None
    return value + Decimal(added) / 100


def _overlaps(match: Match, taken: list[tuple[int, int]]) -> bool:
    return any(match.start < end and start < match.end for start, end in taken)
