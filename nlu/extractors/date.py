"""Dates, past or future, absolute or relative, EN and ES, resolved to ISO days."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from nlu.extractors import calendar as cal
from nlu.extractors.day_words import ENGLISH_DAY, SPANISH_DAY, SPANISH_DAY_ALONE, day_number
from nlu.extractors.match import Match
from nlu.extractors.numbers import NUMBER_WORDS, strip_accents, to_number


@dataclass(frozen=True)
class _Context:
    today: date
    # (start, past) per clause, in text order: a past cue speaks for its own clause only.
    clauses: tuple[tuple[int, bool], ...]
    language: str

    def past_at(self, position: int) -> bool:
        past = False
        for start, clause_past in self.clauses:
            if start > position:
                break
            past = clause_past
        return past


_Resolver = Callable[[re.Match[str], _Context], date | None]

_WEEKDAYS = {
    "monday": 0, "mon": 0, "lunes": 0, "tuesday": 1, "tues": 1, "tue": 1, "martes": 1,
    "wednesday": 2, "weds": 2, "wed": 2, "miercoles": 2, "thursday": 3, "thurs": 3,
    "thur": 3, "thu": 3, "jueves": 3, "friday": 4, "fri": 4, "viernes": 4, "saturday": 5,
    "sat": 5, "sabado": 5, "sunday": 6, "sun": 6, "domingo": 6,
    "lun": 0, "mie": 2, "jue": 3, "vie": 4, "sab": 5, "dom": 6,
}
_MONTHS = {
    "january": 1, "jan": 1, "enero": 1, "ene": 1, "february": 2, "feb": 2, "febrero": 2,
    "march": 3, "mar": 3, "marzo": 3, "april": 4, "apr": 4, "abril": 4, "abr": 4, "may": 5,
    "mayo": 5, "june": 6, "jun": 6, "junio": 6, "july": 7, "jul": 7, "julio": 7, "august": 8,
    "aug": 8, "agosto": 8, "ago": 8, "september": 9, "sept": 9, "sep": 9, "septiembre": 9,
    "setiembre": 9, "october": 10, "oct": 10, "octubre": 10, "november": 11, "nov": 11,
    "noviembre": 11, "december": 12, "dec": 12, "diciembre": 12, "dic": 12,
}
# "i get paid friday" names a payday to come, not a payment made.
_PAST_CUE = re.compile(
    r"\b(?:(?<!\bget )(?<!\bgets )(?<!\bgetting )(?<!\bbe )(?<!\bbeing )paid|sent|payed|"
    r"made|did|transferred|deposited|mailed|was|went|ago|pagu[eé]|"
    r"pag[oó] ya|ya pag|ya le|ya les|deposit[eé]|transfer[ií]|envi[eé]|mand[eé]|hice)\b",
    re.I,
)
# Where a clause ends: punctuation not inside a number ("12.50"), or a joining word.
_CLAUSE_BREAK = re.compile(
    r"[;!?]|[.,](?!\d)|\b(?:but|and|then|so|y|pero|entonces|luego)\b", re.I
)
# A clause that names neither past nor future takes the tense of the nearest one that does
# (before it, else after it): "ya pagué el lunes y el martes" paid twice, "friday, i sent
# it" paid on Friday; "i paid 20 yesterday and will pay 30 friday" promises Friday.
_FUTURE_CUE = re.compile(
    r"\b(?:will|ll|ill|gonna|going to|can|could|would|shall|able to|promise|voy a|vamos a|"
    r"va a|puedo|podr[eé]|podr[ií]a|pagar[eé]|pagar[ií]a|te pago|le pago|les pago|"
    r"te deposito|le deposito)\b",
    re.I,
)
# "i was going to pay friday", "iba a pagar el viernes": a plan, told now, for the day to come;
# in its clause it outweighs the past tense of "was" or "ya le" ("i was paid friday" is past).
# Spanish needs the verb after it: "iba a la tienda", "pensaba que ya pagué" look back.
_INFINITIVE = r"\w+(?:ar|er|ir)(?:le|les|lo|la|los|las|te|se|me)?"
_INTENTION_CUE = re.compile(
    rf"\b(?:(?:was|were)\s+(?:going\s+to|gonna|gunna|planning\s+(?:to|on)|hoping\s+to|"
    rf"thinking\s+(?:of|about)\s+(?:pay|send|mak|deposit|transfer)\w*)|"
    rf"(?:[ií]bamos|iba)\s+a\s+{_INFINITIVE}|"
    rf"(?:pensaba|pens[aá]bamos|planeaba|ten[ií]a\s+(?:pensado|planeado))\s+(?:en\s+)?"
    rf"{_INFINITIVE})\b",
    re.I,
)
# "mña", "mñn", "mñna", "mñana": mañana as typed on a phone ("te pago 200 mña").
_MANANA_TYPED = r"mñana|mñna|mñn|mña"
_FULL_DAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|lunes|martes|" \
             r"mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo|tues|thurs|thur|thu|fri|weds|tue"
_SHORT_DAYS = r"mon|wed|sat|sun"
_PREP = r"(?:on|by|til|till|until|before|after|this|next|last|thru|through)"
_DAY = rf"(?P<wd>{_FULL_DAYS})"
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th|ro|do|to|vo|mo|°|º)"
# "el 1o", "1er de mayo": Spanish ordinals read only after "el" or before a month ("2o" alone
# may be a mistyped 20).
_ES_ORD = r"(?:ero|er|o)"
_COUNT = rf"(?P<n>\d{{1,2}}|a|an|{NUMBER_WORDS})"
_UNIT = r"(?P<unit>days?|d[ií]as?|weeks?|wks?|semanas?|months?|mes(?:es)?)"
_SENTENCE_END = r"(?=\s*(?:[.!?;]|$))"
# "on the fifth" names a day where the sentence or clause ends; "on the fifth try" does not.
_DAY_WORD_END = r"(?=\s*(?:[.!?;,]|$|(?:and|but|if|ok|okay|then|please|pls|plz|i promise)\b))"


def extract_dates(text: str, today: date, language: str = "en") -> list[Match]:
    """Every date candidate in `text`, resolved against the debtor's `today`."""
    context = _Context(today, _clauses(text), language)
    found, weekdays, void = [], [], []
    for pattern, resolve in _RULES:
        for m in pattern.finditer(text):
            day = resolve(m, context)
            if day is not None:
                found.append(Match("date", m.start(), m.end(), day.isoformat()))
                if resolve is _weekday:
                    weekdays.append(found[-1])
            elif resolve is _day_of_named_month:
                # "the 31st of this month" in November: no day, and not the 31st of December.
                void.append((m.start(), m.end()))
    return [f for f in found if not (f in weekdays and _named_after(f, found, text))
            and not any(start <= f.start and f.end <= end for start, end in void)]


def impossible_days(text: str, today: date, language: str = "en") -> list[tuple[int, int]]:
    """Spans naming a day the calendar lacks ("feb 30", "june 31", "el 30 de febrero"): no
    date, and the digits in them are no amount either."""
    context = _Context(today, _clauses(text), language)
    return [(m.start(), m.end()) for pattern, resolve in _RULES if resolve in _CALENDAR_DAYS
            for m in pattern.finditer(text) if resolve(m, context) is None]


def _clauses(text: str) -> tuple[tuple[int, bool], ...]:
    if not _PAST_CUE.search(text):
        return ()
    starts = [0, *(m.end() for m in _CLAUSE_BREAK.finditer(text))]
    tenses: list[bool | None] = []
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        clause = text[start:end]
        tenses.append(_tense(clause))
    past = next((t for t in tenses if t is not None), False)
    clauses = []
    for start, tense in zip(starts, tenses, strict=True):
        past = past if tense is None else tense
        clauses.append((start, past))
    return tuple(clauses)


def _tense(clause: str) -> bool | None:
    """True for a clause in the past, False for one to come, None when it says neither."""
    if _INTENTION_CUE.search(clause):
        return False
    if _PAST_CUE.search(clause):
        return True
    return False if _FUTURE_CUE.search(clause) else None


def _named_after(weekday: Match, found: list[Match], text: str) -> bool:
    """A weekday followed by the date itself ("el sabado 12 de diciembre", "saturday the
    12th") names that date: the date decides, not the next such weekday."""
    return any(_JOINER.fullmatch(text[weekday.end:other.start]) for other in found
               if other.start >= weekday.end and other is not weekday)


_JOINER = re.compile(r"[\s,]*(?:the|el|de)?[\s,]*", re.IGNORECASE)


def _fixed(offset: int) -> _Resolver:
    return lambda _m, c: c.today + timedelta(days=offset)


def _weekday(m: re.Match[str], c: _Context) -> date | None:
    name = strip_accents(m.group("wd").lower())
    modifier = (m.group("mod") or "").lower().strip()
    modifier = "" if modifier in ("on", "by", "til", "till", "until", "before", "after",
                                  "thru", "through", "el", "para el", "hasta el") else modifier
    suffix = (m.groupdict().get("after") or "").lower()
    past = "last" in modifier or "pasado" in modifier or "pasado" in suffix or (
        c.past_at(m.start()) and not modifier and not suffix)
    skip = modifier.startswith("next") and not suffix
    day = cal.weekday_from(c.today, _WEEKDAYS[name], past=past, skip_week=skip)
    # "el otro viernes" (Mexico): not the coming Friday, the one after it.
    return day + timedelta(days=7) if modifier == "el otro" else day


def _quincena(m: re.Match[str], c: _Context) -> date | None:
    """Payday in Mexico: the 15th and the month's last day. "la quincena" is the next one
    (today, if today is one), "la próxima" the next after today, "la otra" the one after."""
    word = strip_accents(m.group(0).lower())
    day = c.today if "proxima" not in word and "siguiente" not in word and "otra" not in word \
        else c.today + timedelta(days=1)
    payday = _next_payday(day)
    return _next_payday(payday + timedelta(days=1)) if "otra" in word else payday


def _next_payday(day: date) -> date:
    return day.replace(day=15) if day.day <= 15 else cal.month_end(day)


def _relative(m: re.Match[str], c: _Context) -> date | None:
    count = _count(m.group("n"))
    unit = strip_accents(m.group("unit").lower())
    if count is None or count > 365:
        return None
    sign = -1 if m.groupdict().get("ago") else 1
    if unit.startswith(("mes", "month")):
        return cal.add_months(c.today, sign * count) if count == 1 or sign < 0 else None
    days = count * (7 if unit.startswith(("week", "wk", "semana")) else 1)
    return c.today + timedelta(days=sign * days)


def _count(raw: str) -> int | None:
    if raw.lower() in ("a", "an"):
        return 1
    value = to_number(raw)
    return int(value) if value is not None and value == int(value) else None


def _week(m: re.Match[str], c: _Context) -> date | None:
    word = strip_accents(m.group(0).lower())
    return c.today + timedelta(days=-7 if ("last" in word or "pasada" in word) else 7)


def _month_rel(m: re.Match[str], c: _Context) -> date | None:
    word = strip_accents(m.group(0).lower())
    return cal.add_months(c.today, -1 if ("last" in word or "pasado" in word) else 1)


def _end_of_month(m: re.Match[str], c: _Context) -> date | None:
    following = "next" in m.group(0).lower() or "proximo" in strip_accents(m.group(0).lower())
    return cal.month_end(cal.add_months(c.today, 1) if following else c.today)


def _end_of_named_month(m: re.Match[str], c: _Context) -> date | None:
    """"a finales de diciembre", "end of january": that month's last day, the next one to
    come unless a year is said (or the clause looks back)."""
    month = _MONTHS[strip_accents(m.group("mon").lower())]
    if m.group("y"):
        return cal.month_end(date(int(m.group("y")), month, 1))
    past = c.past_at(m.start())
    year = c.today.year + (-1 if past and month > c.today.month else
                           1 if not past and month < c.today.month else 0)
    return cal.month_end(date(year, month, 1))


def _first_of_month(m: re.Match[str], c: _Context) -> date | None:
    said = strip_accents(m.group(0).lower())
    if "pasado" in said:
        return cal.add_months(c.today.replace(day=1), -1)
    if c.today.day == 1 and not any(w in said for w in _NEXT_MONTH):
        return c.today
    return cal.add_months(c.today.replace(day=1), 1)


_NEXT_MONTH = ("next", "proximo", "siguiente", "que viene", "entrante")


def _day_only(m: re.Match[str], c: _Context) -> date | None:
    return cal.day_of_month(c.today, int(m.group("d")), past=c.past_at(m.start()))


def _day_month(m: re.Match[str], c: _Context) -> date | None:
    month = _MONTHS[strip_accents(m.group("mon").lower())]
    day = int(m.group("d")) if m.groupdict().get("d") else 1  # "primero de enero"
    return _with_year(c, month, day, m.groupdict().get("y"))


def _word_day_month(m: re.Match[str], c: _Context) -> date | None:
    month = _MONTHS[strip_accents(m.group("mon").lower())]
    return _with_year(c, month, day_number(m.group("w")), m.groupdict().get("y"))


def _word_day(m: re.Match[str], c: _Context) -> date | None:
    day = day_number(m.group("w") or m.group("w2"))
    return cal.day_of_month(c.today, day, past=c.past_at(m.start()))


def _day_of_named_month(m: re.Match[str], c: _Context) -> date | None:
    """"el 15 de este mes" is this month's 15th even when it has passed (a promise for it is
    then refused and the dialog asks); "the 15th next month" is next month's, never later."""
    raw = m.group("d") or m.group("d2") or m.group("d3")
    said = strip_accents(m.group(0).lower())
    month = c.today.replace(day=1)
    if "this" not in said and "este" not in said:
        month = cal.add_months(month, 1)
    return cal.exact(month.year, month.month, int(raw))


def _numeric(m: re.Match[str], c: _Context) -> date | None:
    a, b = int(m.group("a")), int(m.group("b"))
    day_first = c.language == "es" or a > 12
    if b > 12:
        day_first = False
    month, day = (b, a) if day_first else (a, b)
    return _with_year(c, month, day, m.group("y"))


def _iso(m: re.Match[str], c: _Context) -> date | None:
    return cal.exact(int(m.group("y")), int(m.group("m")), int(m.group("d")))


def _with_year(c: _Context, month: int, day: int, year: str | None) -> date | None:
    if not year:
        return cal.nearest_year(c.today, month, day)
    full = int(year) + (2000 if len(year) == 2 else 0)
    return cal.exact(full, month, day)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


_RULES: list[tuple[re.Pattern[str], _Resolver]] = [
    (_rx(r"\b(?:today|tonight|hoy|esta noche|2day)\b"), _fixed(0)),
    (_rx(rf"\b(?:day after tomorrow|pasado (?:ma[ñn]ana|{_MANANA_TYPED}))\b"), _fixed(2)),
    (_rx(r"\b(?:tomorrow|tomorow|tommorow|tommorrow|tomorrw|tmrw|tmrrw|tmr|tmw|2morrow|2moro"
         r"|2mrw)\b"), _fixed(1)),
    (_rx(rf"(?<!la )(?<!pasado )\b(?:ma[ñn]ana|{_MANANA_TYPED})\b"), _fixed(1)),
    (_rx(r"\b(?:yesterday|yday|ayer|last night|anoche)\b"), _fixed(-1)),
    (_rx(r"\b(?:anteayer|antier|day before yesterday)\b"), _fixed(-2)),
    (_rx(rf"(?P<mod>\b(?:this coming|this|next|last|coming|el pr[oó]ximo|el pasado|el otro"
         rf"|este)\s+)?"
         rf"\b{_DAY}\b(?P<after>\s+(?:pasado|que viene|que entra|pr[oó]ximo))?"),
     _weekday),
    (_rx(rf"\b(?P<mod>{_PREP})\s+(?P<wd>{_SHORT_DAYS})\b"), _weekday),
    # Spanish abbreviations only after an article: "el vie", never a bare "dom" or "lun".
    (_rx(r"\b(?P<mod>el otro|el pr[oó]ximo|para el|hasta el|el|este)\s+"
         r"(?P<wd>lun|mi[eé]|jue|vie|s[aá]b|dom)\b\.?"), _weekday),
    (_rx(r"(?<!cada )(?<!por )(?<!a )\b(?:(?:en |para )?(?:la|esta)\s+(?:pr[oó]xima\s+|"
         r"siguiente\s+|otra\s+)?quincena(?:\s+que viene)?)\b"), _quincena),
    (_rx(rf"\b(?:in|en|dentro de|within)\s+{_COUNT}\s+{_UNIT}\b"), _relative),
    (_rx(rf"\b{_COUNT}\s+{_UNIT}\s+(?:from now|from today)\b"), _relative),
    (_rx(rf"\b{_COUNT}\s+{_UNIT}\s+(?P<ago>ago)\b"), _relative),
    (_rx(rf"\b(?P<ago>hace)\s+{_COUNT}\s+{_UNIT}\b"), _relative),
    (_rx(r"\b(?:next week|last week|la semana (?:pasada|que viene|pr[oó]xima|entrante|"
         r"siguiente)|la (?:pr[oó]xima|siguiente|otra) semana)\b"), _week),
    (_rx(r"\b(?:next month|last month|el mes (?:pasado|que viene|pr[oó]ximo)|el pr[oó]ximo "
         r"mes)\b"), _month_rel),
    (_rx(r"\b(?:end of (?:the |this |next )?month|eom|(?:a |el )?(?:fin|fines|final|"
         r"finales) de(?:l)? (?:este |pr[oó]ximo )?mes)\b"), _end_of_month),
    (_rx(rf"\b(?:(?:the\s+)?end of|(?:a |para |el )?(?:fin|fines|final|finales) de)\s+"
         rf"(?P<mon>{_MONTH})\b\.?(?:,?\s+(?:de\s+)?(?P<y>\d{{4}}))?"), _end_of_named_month),
    (_rx(r"\b(?:(?:the\s+)?(?:first|1st|beginning|start) of (?:the |next )?month|(?:a |el )?"
         r"(?:principio|principios|inicio|primero) de(?:l)? (?:pr[oó]ximo |siguiente )?mes"
         r"(?: que viene| entrante| pr[oó]ximo| siguiente| pasado)?)\b"), _first_of_month),
    # "primero" is the 1st only where no clause follows: "primero quiero saber cuánto debo",
    # "el primero que llegue", "first I want to know", "on the first try" name no day.
    (_rx(rf"\b(?:d?el\s+(?:d[ií]a\s+)?primero|{_PREP}\s+the\s+first){_SENTENCE_END}"),
     lambda m, c: cal.day_of_month(c.today, 1, past=c.past_at(m.start()))),
    (_rx(rf"\b(?:(?:el\s+)?(?:d[ií]a\s+)?primero\s+de|(?:the\s+)?first\s+of)\s+"
         rf"(?P<mon>{_MONTH})\.?(?:,?\s+(?:de\s+)?(?P<y>\d{{4}}))?\b"), _day_month),
    (_rx(rf"\b(?:the\s+(?P<d>\d{{1,2}}){_ORD}?|(?P<d2>\d{{1,2}}){_ORD}|el\s+(?:d[ií]a\s+)?"
         r"(?P<d3>\d{1,2}))\s+(?:(?:of\s+)?(?:this|next)\s+month|(?:de\s+)?este\s+mes|del\s+"
         r"(?:pr[oó]ximo|siguiente)\s+mes|del\s+mes\s+(?:que\s+viene|entrante|pr[oó]ximo|"
         r"siguiente))\b"), _day_of_named_month),
    (_rx(rf"\b(?:the\s+(?P<d>\d{{1,2}}){_ORD}?|(?P<d2>\d{{1,2}}){_ORD})"
         rf"(?!\s*(?:of\s+)?(?:{_MONTH})\b)(?!\w)"), lambda m, c: _day_only_any(m, c)),
    (_rx(rf"\bel\s+(?:d[ií]a\s+)?(?P<d>\d{{1,2}}){_ES_ORD}?(?!\s*(?:de\s+)?(?:{_MONTH})\b)(?![\w/:.,%])"
         r"(?!\s*(?:d[oó]lares|pesos|usd|mxn|dlls|%|por))"), _day_only),
    (_rx(rf"\b(?:the\s+)?(?P<d>\d{{1,2}})(?:{_ORD}|{_ES_ORD})?\s+(?:of\s+|de\s+)?(?P<mon>{_MONTH})\.?"
         rf"(?:,?\s+(?:de\s+)?(?P<y>\d{{4}}))?\b"), _day_month),
    (_rx(rf"\b(?P<mon>{_MONTH})\.?\s+(?:the\s+)?(?P<d>\d{{1,2}}){_ORD}?(?:,?\s+(?P<y>\d{{4}}))?"
         r"(?![\d:])\b"), _day_month),
    (_rx(rf"\b(?P<mon>{_MONTH})\.?\s+(?:the\s+)?(?P<w>{ENGLISH_DAY})\b(?:,?\s+(?P<y>\d{{4}}))?"),
     _word_day_month),
    (_rx(rf"\b(?:the\s+)?(?P<w>{ENGLISH_DAY})\s+of\s+(?P<mon>{_MONTH})\b\.?"
         rf"(?:,?\s+(?P<y>\d{{4}}))?"), _word_day_month),
    (_rx(rf"\b{_PREP}\s+the\s+(?P<w>{ENGLISH_DAY})\b{_DAY_WORD_END}"), _word_day),
    (_rx(rf"\b(?:el\s+)?(?:d[ií]a\s+)?(?P<w>{SPANISH_DAY})\s+de\s+(?P<mon>{_MONTH})\b\.?"
         rf"(?:,?\s+(?:de\s+)?(?P<y>\d{{4}}))?"), _word_day_month),
    (_rx(rf"\bel\s+(?:d[ií]a\s+(?P<w>{SPANISH_DAY})|(?P<w2>{SPANISH_DAY_ALONE}))\b"
         r"(?!\s*(?:%|d[oó]lares|pesos|usd|mxn|dlls|bucks|por|mil|cientos?|y\s+medio)\b)"),
     _word_day),
    (_rx(r"(?<![\d/.$])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"), _iso),
    (_rx(r"(?<![\d/.$,])(?P<a>\d{1,2})[/-](?P<b>\d{1,2})(?:[/-](?P<y>\d{4}|\d{2}))?(?![\d/%])"),
     lambda m, c: None if _is_fraction(m) else _numeric(m, c)),
]


def _day_only_any(m: re.Match[str], c: _Context) -> date | None:
    raw = m.group("d") or m.group("d2")
    if m.group("d2") and m.group(0).lower().endswith("mo") and not _ARTICLE_BEFORE.search(
            m.string[:m.start()]):
        return None  # "for 12mo" is twelve months; "el 7mo" (séptimo) is a day
    return cal.day_of_month(c.today, int(raw), past=c.past_at(m.start()))


_ARTICLE_BEFORE = re.compile(r"\bel\s+$", re.I)


_FRACTIONS = {("1", "2"), ("1", "3"), ("1", "4"), ("2", "3"), ("3", "4")}


def _is_fraction(m: re.Match[str]) -> bool:
    before = m.string[:m.start()].lower().rstrip()
    dated = before.endswith(("on", "by", "el", "until", "till", "before", "the"))
    return (m.group("a"), m.group("b")) in _FRACTIONS and not m.group("y") and not dated


# Resolvers that name a month and a day: None from them means no such day.
_CALENDAR_DAYS = frozenset({_day_month, _word_day_month, _iso})
