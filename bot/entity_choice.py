"""Which of the amounts and dates a message names are the ones the debtor offers."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from bot.dialogs.base import MOVE, MOVE_INSTEAD, MOVE_VERB, MOVED_FROM, PARTS, REST, REST_LATER
from bot.dialogs.currency import AMOUNT_CURRENCY, stated_currency
from nlu.types import Entity, Parse

# An amount named as what is owed ("i know i owe 1278 but i can pay 100") is not an offer.
OWED_BEFORE = re.compile(
    r"\b(?:owe|owes|owed|balance(?: is| of)?|debt(?: is| of)?|debo|saldo(?: es| de)?"
    r"|deuda(?: es| de)?|adeudo(?: es| de)?)\W*$", re.IGNORECASE)
# Where a clause ends: "i get paid friday, ill pay you monday", "te pago el lunes porque
# me pagan el viernes".
CLAUSE_BREAK = re.compile(
    r"[;!?]|[.,](?!\d)|\b(?:but|and|then|so|because|cause|cuz|when|once|after|y|pero|"
    r"entonces|luego|porque|cuando|despu[eé]s)\b", re.IGNORECASE)
# A clause about the debtor's own pay names a payday or a pay cheque, not a payment to us.
PAYDAY = re.compile(
    r"\b(?:(?:get|gets|getting|got|be|being)\s+paid|pay\s?day|pay\s?check|pay\s?cheque|"
    r"my check|me\s+(?:pagan|pagaron|paga|pag[oó]|depositan|depositaron)|cobro|cobr[eé]|"
    r"cobrar|quincena|mi cheque)\b", re.IGNORECASE)
# A clause about a payment already made ("i paid 50 last week and will pay 100 friday").
PAID = re.compile(
    r"\b(?:paid|payed|sent|made|transferred|deposited|mailed|pagu[eé]|ya\s+pag[uoóeé]\w*|"
    r"deposit[eé]|transfer[ií]|envi[eé]|mand[eé])\b", re.IGNORECASE)
# Intents about a payment made: they name the past payment's amount and day.
LOOKING_BACK = frozenset({"already_paid"})
# A part paid at once ("50 now and 50 next week", "50 ahora y 50 el viernes").
NOW = re.compile(r"\b(?:now|right away|ahora|ahorita|ya mismo|de una vez)\b", re.IGNORECASE)
# A part that pays whatever is left ("100 friday and the rest on the 15th").
THE_REST = re.compile(
    r"\b(?:the rest|the remainder|the remaining(?: balance| amount)?|what(?:'s| is) left|"
    r"whatever(?:'s| is) left|el resto|lo dem[aá]s|lo que (?:queda|falta|resta))\b",
    re.IGNORECASE)
# Numbers that make the message a plan, not parts on named days.
PLAN_ENTITIES = frozenset({"installments", "frequency"})
# A day given up for another ("monday instead of friday", "el lunes en vez del viernes").
INSTEAD_OF = re.compile(
    r"\b(?:instead of|rather than|in place of|en vez de|en vez del|en lugar de|en lugar del)"
    r"\s+(?:(?:on|the|el|la)\s+)?$", re.IGNORECASE)
# A clause saying a day will not do ("can't make it friday", "no puedo el viernes"); "i can't
# pay until friday" names the day it will do.
CANNOT = re.compile(
    r"\b(?:can[’']?t|cannot|can not|won[’']?t|wont|couldn[’']?t|not able to|unable to|"
    r"no puedo|no podr[eé]|no voy a poder|no llego|no alcanzo)\b", re.IGNORECASE)
# A day the debtor says no to: "not today", "no el viernes", "hoy no" ("mañana no hay
# problema" says yes; "not until friday" names the day).
NEGATED_BEFORE = re.compile(r"\b(?:no|not)\s+(?:(?:on|the|el|la|para el)\s+)?$", re.IGNORECASE)
NEGATED_AFTER = re.compile(r"^\s*no\b(?!\s+(?:hay\s+)?problem)", re.IGNORECASE)
# A reply that corrects what was said or proposed: its last day is the one meant ("no, la
# quincena es el 15").
CORRECTION = re.compile(r"^\W*(?:no|nope|nah|not|mejor|actually|i mean)\s*[,.!:;-]",
                        re.IGNORECASE)
UNTIL = re.compile(r"\b(?:until|till|til|before|hasta|antes)\b", re.IGNORECASE)
# Words asking to move a payment to another day ("move it to the 5th", "cámbiela al lunes").
MOVE_WORDS = re.compile(
    r"\b(?:move|moved|moving|change|changing|reschedul\w*|postpon\w*|push\w*(?: it| that)? back"
    r"|c[aá]mbi\w+|mover|muev\w+|aplaz\w+|pospon\w+|reprogram\w+)\b", re.IGNORECASE)
# Words that put one day in another's place: a move when no offer of the bot is open ("can i
# pay monday instead"), else the day the debtor wants for that offer.
INSTEAD = re.compile(r"\b(?:instead|rather than|en vez|en lugar)\b", re.IGNORECASE)
# Words after an amount or a count saying it is more than the debtor can pay ("100 is too
# much", "100 es mucho", "12 payments is too many").
TOO_MUCH = re.compile(
    r"\b(?:too\s+(?:much|high|steep|many)|(?:es|son|sale|seria)\s+(?:muy\s+)?"
    r"(?:mucho|muchos|demasiado|demasiados|alto|caro)|me\s+queda\s+grande)\b",
    re.IGNORECASE)
# A ceiling, not a refusal: "can't pay more than 50", "no puedo pagar más de 50".
CEILING = re.compile(
    r"\b(?:more than|over|above|higher than|beyond|m[aá]s de|m[aá]s que|arriba de)\s*\W?$",
    re.IGNORECASE)
# Entities whose first value names the plan the debtor offers, after a refused one is left out.
PLAN_TERMS = ("installments", "frequency")


def chosen_entities(parse: Parse, today: date) -> dict[str, str]:
    """The value of each entity the turn acts on, and the currency its amount was stated in.

    Of several amounts or dates, the first that is an offer: not named as owed, not the
    debtor's own pay, not a payment already made, and (dates) not in the past — unless the
    intent looks back at a payment made, or no candidate is left, when the first counts.
    """
    entities = {e.entity: e.value for e in reversed(parse.entities)}
    for kind in PLAN_TERMS:
        term = _first_kept(parse, kind)
        if term is not None:
            entities[kind] = term.value
    back = parse.intent.name in LOOKING_BACK
    amount = _first_offer(parse, "amount", back, today)
    if amount is None:
        entities.pop("amount", None)  # none named, or only one the debtor refuses
    else:
        entities["amount"] = amount.value
        stated = stated_currency(amount.text, amount.currency)
        if stated:
            entities[AMOUNT_CURRENCY] = stated
    day = _first_offer(parse, "date", back, today)
    if day is not None:
        entities["date"] = day.value
    if back:
        return entities
    _moving(parse, entities)
    parts = offered_parts(parse, today)
    if parts:
        entities[PARTS] = ";".join(f"{p.money}@{p.day}" for p in parts)
        stated = next((p.currency for p in parts if p.currency), None)
        if stated:  # "50 euros now and 50 euros friday" is no offer on a dollar account
            entities[AMOUNT_CURRENCY] = stated
    first = part_before_rest(parse, today)
    if first is not None:
        entities[REST_LATER] = f"{first.money}@{first.day}"
        if first.currency:
            entities[AMOUNT_CURRENCY] = first.currency
    return entities


def _moving(parse: Parse, entities: dict[str, str]) -> None:
    """The day given up for another, and whether the words ask to move a payment."""
    given_up = [e for e in parse.entities if e.entity == "date" and _given_up(parse.text, e)]
    if given_up:
        entities[MOVED_FROM] = given_up[0].value
    if MOVE_WORDS.search(parse.text):
        entities[MOVE] = MOVE_VERB
    elif INSTEAD.search(parse.text):
        entities[MOVE] = MOVE_INSTEAD


@dataclass(frozen=True)
class Part:
    """One clause's share of an offer in parts: an amount (or REST) and an ISO day."""

    money: str | None
    day: str | None
    currency: str | None = None

    @property
    def whole(self) -> bool:
        """Both the amount and the day are known."""
        return self.money is not None and self.day is not None


class Unclear(ValueError):
    """A clause whose amount or day cannot be told: the message is not read in parts."""


def offered_parts(parse: Parse, today: date) -> list[Part]:
    """Each part of an offer in parts ("50 now and 50 next week"), one per clause.

    A part is an amount, or the rest of the balance, with one day to come ("now" is today);
    an amount and its day may sit in clauses side by side ("50, on friday"). Clauses about a
    payday, a payment made or what is owed offer nothing. Empty unless there are two parts or
    more and every clause offering money names its amount and day plainly, in one currency,
    without a count or frequency (those make a plan).
    """
    parts = _read_parts(parse, today)
    whole = len(parts) >= 2 and all(p.whole for p in parts)
    return parts if whole and _one_currency(parts) else []


def part_before_rest(parse: Parse, today: date) -> Part | None:
    """The part paid first of "50 now and the rest later": one plain part, then the rest
    with no day yet; None for any other message."""
    parts = _read_parts(parse, today)
    if len(parts) != 2 or not _one_currency(parts):
        return None
    first, rest = parts
    return first if first.whole and first.money != REST and rest.money == REST \
        and rest.day is None else None


def _read_parts(parse: Parse, today: date) -> list[Part]:
    """Each clause's part, an amount and a day side by side paired; [] when a clause is
    unclear or the message names a count or frequency (a plan)."""
    if any(e.entity in PLAN_ENTITIES for e in parse.entities):
        return []
    try:
        read = [_part_of(parse, start, end, today) for start, end in _clause_spans(parse.text)]
    except Unclear:
        return []
    return _paired([p for p in read if p is not None])


def _one_currency(parts: list[Part]) -> bool:
    return len({p.currency for p in parts} - {None}) <= 1


def _part_of(parse: Parse, start: int, end: int, today: date) -> Part | None:
    """What one clause offers: None when nothing (a payday, a payment made, an amount owed)."""
    text, clause = parse.text, parse.text[start:end]
    if PAYDAY.search(clause) or PAID.search(clause):
        return None
    inside = [e for e in parse.entities if start <= e.start < end]
    amounts = [e for e in inside if e.entity == "amount" and not _owed(text, e)]
    days = [e.value for e in inside if e.entity == "date"]
    rest = THE_REST.search(clause) is not None
    money = amounts[0].value if amounts else REST if rest else None
    past = any((_day(d) or today) < today for d in days)
    if money is None and past and len(days) == 1:
        return None  # "i lost my job yesterday, ...": a day that offers nothing
    if len(amounts) + rest > 1 or len(days) > 1 or past:
        raise Unclear(clause)
    if days:
        return Part(money, days[0], _currency_of(amounts))
    if money is None:
        return None
    return Part(money, today.isoformat() if NOW.search(clause) else None, _currency_of(amounts))


def _currency_of(amounts: list[Entity]) -> str | None:
    return stated_currency(amounts[0].text, amounts[0].currency) if amounts else None


def _paired(parts: list[Part]) -> list[Part]:
    """An amount alone and a day alone, side by side, are one part ("50, on friday")."""
    paired: list[Part] = []
    for part in parts:
        last = paired[-1] if paired else None
        if last is not None and not last.whole and not part.whole and (
                (last.money is None) != (part.money is None)):
            paired[-1] = replace(last, money=last.money or part.money, day=last.day or part.day,
                                 currency=last.currency or part.currency)
        else:
            paired.append(part)
    return paired


def _clause_spans(text: str) -> list[tuple[int, int]]:
    bounds = [0, *(b for m in CLAUSE_BREAK.finditer(text) for b in (m.start(), m.end())),
              len(text)]
    return [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]


def _first_offer(parse: Parse, kind: str, back: bool, today: date) -> Entity | None:
    found = [e for e in parse.entities if e.entity == kind]
    if not found:
        return None
    offers = [e for e in found if not _owed(parse.text, e)]
    if not back:
        offers = [e for e in offers if _forward(parse.text, e, today)
                  and not _refused(parse.text, e)]
    elif kind == "date":
        offers = [e for e in offers if (_day(e.value) or today) <= today]
    if kind == "date" and not back and CORRECTION.search(parse.text):
        kept = [e for e in found if not _negated(parse.text, e)]
        return (offers or kept or found)[-1]
    if kind == "amount" and not back and not offers and all(_refused(parse.text, e)
                                                             for e in found):
        return None  # "I can't afford 100" alone offers nothing: the bot asks how much
    return (offers or found)[0]


def _first_kept(parse: Parse, kind: str) -> Entity | None:
    """The first count or frequency not in a refused clause ("can't do 12 payments, maybe
    24"), else the first."""
    found = [e for e in parse.entities if e.entity == kind]
    kept = [e for e in found if not _refused(parse.text, e)]
    return (kept or found)[0] if found else None


def _refused(text: str, entity: Entity) -> bool:
    """A value the debtor says will not do: a day ("not friday", "instead of friday"), an
    amount or a plan's term ("can't afford 100", "100 is too much", "no puedo 100")."""
    if entity.entity == "date":
        return _given_up(text, entity) or _negated(text, entity)
    if CEILING.search(text[max(0, entity.start - 15):entity.start]):
        return False  # "can't pay more than 50" offers 50
    return _given_up(text, entity) or _too_much(text, entity)


def _too_much(text: str, entity: Entity) -> bool:
    """Named as more than the debtor can pay: "100 is too much", "100 al mes es mucho"."""
    after = CLAUSE_BREAK.search(text, entity.end)
    return TOO_MUCH.search(text[entity.end:after.start() if after else len(text)]) is not None


def _negated(text: str, entity: Entity) -> bool:
    """A day said no to: "not today", "no el viernes", "hoy no"."""
    return bool(NEGATED_BEFORE.search(text[max(0, entity.start - 15):entity.start])
                or NEGATED_AFTER.match(text[entity.end:]))


def _owed(text: str, entity: Entity) -> bool:
    return bool(OWED_BEFORE.search(text[max(0, entity.start - 30):entity.start]))


def _given_up(text: str, entity: Entity) -> bool:
    """Named as the one that will not do: "instead of friday", "can't make it friday", "can't
    afford 100"; "i can't pay until friday" names the day it will do."""
    if INSTEAD_OF.search(text[max(0, entity.start - 30):entity.start]):
        return True
    clause = _clause(text, entity)
    return CANNOT.search(clause) is not None and UNTIL.search(clause) is None


def _forward(text: str, entity: Entity, today: date) -> bool:
    clause = _clause(text, entity)
    if PAYDAY.search(clause) or PAID.search(clause):
        return False
    return entity.entity != "date" or (_day(entity.value) or today) >= today


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:  # a Rasa backend's odd value: no reason to prefer or drop it
        return None


def _clause(text: str, entity: Entity) -> str:
    start = max((m.end() for m in CLAUSE_BREAK.finditer(text, 0, entity.start)), default=0)
    after = CLAUSE_BREAK.search(text, entity.end)
    return text[start:after.start() if after else len(text)]
