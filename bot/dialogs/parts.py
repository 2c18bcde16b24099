"""Offers in parts ("50 now and 50 next week"): each part a promise, agreed in one question."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from bot.dialogs import promise
from bot.dialogs.base import PARTS, REST, REST_LATER, YES_NO, DialogState, OfferPart, Outcome, Turn
from bot.dialogs.handoff import hand_off
from bot.dialogs.negotiation import (
    ASKED,
    beside_pending,
    covered_key,
    describe,
    judge_of,
    negotiation_note,
    spend_round,
    terms_for,
)
from bot.effects import IssuePaymentLink, RecordPromise
from bot.facts import Answer, Facts, Offer, Request

# One question reads back two parts; more go to a person rather than lose one.
MOST_PARTS = 2
Asked = list[OfferPart]


def offer(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """Read both parts back in one question, each judged as a promise of what the parts
    before it leave: confirm them, or counter naming the part outside the policy."""
    state = out.state
    if facts.paid:
        return out.say("balance.paid", debt=True)
    if facts.active_plan:  # a plan takes every payment, as for a single promise
        state.clear_table()
        return out.say("promise.beside_plan", debt=True)
    asked = turn.parts()
    state.remember(ASKED + _ask(asked))  # before a round may run out: the note leads with it
    if _answers_table(state) and spend_round(out, facts):
        return out
    owed = terms_for(facts, kind="promise").balance
    if owed <= 0:
        state.clear_table()
        return out.say(covered_key(facts), debt=True)
    if len(asked) > MOST_PARTS:
        return hand_off(out, "offer_in_parts", key="negotiate.handoff", queue="negotiation",
                        note=_note(asked))
    requests = _requests(asked, owed)
    fresh = [r for r in requests if not _pending(r, facts)]
    if not fresh:
        state.clear_table()
        first = requests[0]
        return out.say("promise.already", debt=True, amount=first.amount, date=first.due,
                       currency=facts.currency)
    if len(fresh) == 1:  # capped or merged into one payment: a promise like any other
        return promise.capture(out, _single(turn, fresh[0]), facts)
    return _present(out, facts, fresh, capped=_named(asked) > owed)


def ask_rest(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """"50 now and the rest later": ask the rest's day, then read both parts back as any
    offer in parts. Not a plan for the rest: a plan replaces pending promises
    (ledger.record_plan), so it would cancel the first part the debtor just promised."""
    state = out.state
    first = turn.part_before_rest()
    if first is None:
        return out
    if facts.paid:
        return out.say("balance.paid", debt=True)
    if facts.active_plan:
        state.clear_table()
        return out.say("promise.beside_plan", debt=True)
    owed = terms_for(facts, kind="promise").balance
    if owed <= 0:
        state.clear_table()
        return out.say(covered_key(facts), debt=True)
    amount, day = first
    if amount >= owed:  # nothing is left for later: a promise like any other, of what is owed
        return promise.capture(out, _single(turn, Request(owed, day)), facts)
    state.clear_table()
    state.flow = "rest_day"
    state.promise = {REST_LATER: f"{amount}@{day.isoformat()}"}
    key = "parts.ask_rest_today" if day == facts.today else "parts.ask_rest"
    return out.say(key, debt=True, amount=amount, date=day, rest=owed - amount,
                   currency=facts.currency)


def rest_dated(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """The rest's day (or an amount on a day) after "50 now and the rest later": both parts
    judged and read back together."""
    first = out.state.promise.get(REST_LATER)
    day = turn.date()
    if first is None or day is None:
        return out
    amount = turn.amount()
    out.state.promise = {}
    second = f"{REST if amount is None else amount}@{day.isoformat()}"
    entities = {**turn.entities, PARTS: f"{first};{second}"}
    return offer(out, replace(turn, entities=entities), facts)


def accept(out: Outcome, facts: Facts) -> Outcome:
    """Yes to the parts on the table: one promise each (checked once more right before),
    and a payment link for a part due today."""
    state = out.state
    offers = tabled(state)
    if not _allowed(facts, offers):
        return hand_off(out, "offer_out_of_policy", key="negotiate.handoff", queue="negotiation")
    state.clear_table()
    state.rounds = 0
    if facts.active_plan:
        return out.say("promise.beside_plan", debt=True)
    out.do(*(RecordPromise(o.total, o.first_due) for o in offers))
    now = [o for o in offers if o.first_due == facts.today]
    if now:
        out.do(IssuePaymentLink(now[0].total))
    key = "parts.recorded_today" if now else "parts.recorded"
    return out.say(key, debt=True, **_slots(offers, facts))


def tabled(state: DialogState) -> list[Offer]:
    """The parts awaiting an answer, in date order."""
    return [Offer.from_dict(p) for p in state.parts]


def _answers_table(state: DialogState) -> bool:
    """The parts answer an offer or a question of a negotiation: a round, as any counter."""
    return state.flow == "confirm" or (state.flow or "").startswith("counter:")


def _requests(asked: Asked, owed: Decimal) -> list[Request]:
    """The parts in date order, "the rest" worked out, never past what is owed (so the last
    part shrinks, or goes), and parts on one day paid as one."""
    rest = max(owed - _named(asked), Decimal(0))
    left = owed
    by_day: dict[date, Decimal] = {}
    for amount, day in sorted(asked, key=lambda part: part[1]):
        share = min(rest if amount is None else amount, left)
        left -= share
        if share > 0:
            by_day[day] = by_day.get(day, Decimal(0)) + share
    return [Request(amount, day) for day, amount in by_day.items()]


def _named(asked: Asked) -> Decimal:
    return sum((amount for amount, _ in asked if amount is not None), Decimal(0))


def _pending(request: Request, facts: Facts) -> bool:
    return any((p.due, p.amount) == (request.due, request.amount)
               for p in facts.pending_promises)


def _single(turn: Turn, request: Request) -> Turn:
    entities = {k: v for k, v in turn.entities.items() if k != PARTS}
    entities.update(amount=str(request.amount), date=str(request.due))
    return replace(turn, entities=entities)


def _present(out: Outcome, facts: Facts, requests: list[Request], *, capped: bool) -> Outcome:
    answers = _judged(facts, requests)
    note = negotiation_note(out.state.history)
    if any(a.needs_human for a in answers):
        return hand_off(out, "needs_approval", key="negotiate.approval", queue="approvals",
                        note=note)
    offers = [a.offer for a in answers if a.offer is not None]
    if len(offers) < len(requests):
        return hand_off(out, "no_offer_in_policy", key="negotiate.handoff",
                        queue="negotiation", note=note)
    state = out.state
    state.clear_table()
    state.table(offers[0])  # the base a counter-offer builds on, as for one promise
    state.parts = [o.to_dict() for o in offers]
    state.remember(" + ".join(describe(o) for o in offers))
    outside = [n for n, answer in enumerate(answers) if not answer.exact]
    key = _key(outside, offers[0].first_due == facts.today)
    return out.say(key, debt=True, choices=YES_NO, lead=_lead(facts, capped and not outside),
                   **_slots(offers, facts))


def _lead(facts: Facts, capped: bool) -> str | None:
    """What the debtor must know before saying yes: the earlier promises still stand (the
    parts come on top of them), and the parts were cut to what is owed."""
    if capped:
        return "parts.capped_beside" if facts.pending_promises else "parts.capped"
    return beside_pending(facts, "promise")


def _judged(facts: Facts, requests: list[Request]) -> list[Answer]:
    """Each part as a promise, judged against what the parts before it leave of the balance."""
    terms = terms_for(facts, kind="promise")
    answers = []
    for request in requests:
        answer = judge_of(facts).answer("promise", request, terms)
        answers.append(answer)
        if answer.offer is None:
            break
        terms = replace(terms, balance=terms.balance - answer.offer.total)
    return answers


def _allowed(facts: Facts, offers: list[Offer]) -> bool:
    terms = terms_for(facts, kind="promise")
    for offer in offers:
        if not judge_of(facts).check(offer, terms).allowed:
            return False
        terms = replace(terms, balance=terms.balance - offer.total)
    return len(offers) == MOST_PARTS


def _key(outside: list[int], today: bool) -> str:
    if not outside:
        return "parts.confirm_today" if today else "parts.confirm"
    if outside == [0]:
        return "parts.counter.first"
    return "parts.counter.second" if outside == [1] else "parts.counter.both"


def _slots(offers: list[Offer], facts: Facts) -> dict[str, Any]:
    first, second = offers
    return {
        "currency": facts.currency, "amount": first.total, "date": first.first_due,
        "second_amount": second.total, "second_date": second.first_due,
        "total": first.total + second.total,
    }


def _ask(asked: Asked) -> str:
    """The parts as the debtor asked for them, a line of the negotiation history."""
    return "parts " + " + ".join(f"{a or 'the rest'} on {d}" for a, d in asked)


def _note(asked: Asked) -> str:
    """What the debtor offered, for the person taking over (no message text)."""
    return "offer in parts: " + ", ".join(f"{a or 'the rest'} on {d}" for a, d in asked)
