"""Putting offers on the table and settling them: the dialog proposes, the policy disposes."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import date
from decimal import Decimal

from bot.dialogs.base import YES_NO, Outcome, Turn, choice, offer_slots
from bot.dialogs.handoff import hand_off
from bot.effects import Effect, IssuePaymentLink, RecordPlan, RecordPromise
from bot.facts import Answer, Facts, Installment, Offer, OfferJudge, PendingPromise, Request, Terms


def judge_of(facts: Facts) -> OfferJudge:
    """The policy; a conversation without one cannot negotiate."""
    if facts.judge is None:
        raise LookupError("no policy judge in facts")
    return facts.judge


# Offers recorded as promises: they stand beside the pending ones, never in their place.
PROMISED = frozenset({"promise", "extension"})


def terms_for(facts: Facts, offer: Offer | None = None, kind: str | None = None) -> Terms:
    """The terms to judge with; a hardship offer is judged by the hardship bounds.

    A promise, or more time (a promise of the balance), may cover only what pending promises
    leave of the balance: two promises of the same money would count one payment twice. The
    pending ones stand — the debtor made them, and moving one is its own step
    (`bot.dialogs.moves`) — so more time is for the rest.
    """
    hardship = facts.hardship or bool(offer and offer.hardship)
    terms = replace(facts.terms, hardship=hardship)
    if (kind or (offer.kind if offer else None)) in PROMISED and facts.promised:
        terms = replace(terms, balance=max(facts.balance - facts.promised, Decimal(0)))
    return terms


def covered(out: Outcome, facts: Facts) -> Outcome:
    """Pending promises already cover the balance: nothing more to promise."""
    out.state.clear_table()
    return out.say(covered_key(facts), debt=True)


def covered_key(facts: Facts) -> str:
    """The sentence for pending promises covering the balance: it offers to move one only
    while the policy would still let one move."""
    return "promise.covered" if movable(facts) else "promise.covered_no_moves"


def moves_left(facts: Facts, promise: Installment) -> int:
    """How many more times the policy lets this promise move."""
    moved = promise.moves if isinstance(promise, PendingPromise) else 0
    return facts.policy.max_promise_moves - moved


def movable(facts: Facts) -> bool:
    """A pending promise may still move (`promise.max_moves`): only then is a move offered."""
    return any(moves_left(facts, p) > 0 for p in facts.pending_promises)


def beside_pending(facts: Facts, kind: str) -> str | None:
    """The sentence telling the debtor what becomes of their pending promises: a promise
    comes on top of them (and one may move instead, while the policy allows), a plan or
    settlement replaces them (ledger.record_plan)."""
    if not facts.pending_promises or facts.active_plan:
        return None
    many = len(facts.pending_promises) > 1
    if kind in PROMISED:
        key = "promise.stands_many" if many else "promise.stands"
        return key if movable(facts) else f"{key}_no_moves"
    return "plan.replaces_promises" if kind in ("plan", "settlement") else None


def allowed(facts: Facts, offer: Offer) -> bool:
    """The one gate every offer passes before the bot says or records it."""
    return judge_of(facts).check(offer, terms_for(facts, offer)).allowed


def request_of(turn: Turn) -> Request:
    """The numbers in the debtor's message."""
    return Request(turn.amount(), turn.date(), turn.installments(), turn.frequency())


def merged(request: Request, base: Offer | None, own: dict[str, str]) -> Request:
    """Fill what the debtor left out of a counter-offer from the offer it answers: its
    frequency, and of a promise only the terms the debtor named (`own`, see `own_terms`).
    A day or amount the bot proposed is refused by a counter-offer: carried into it, it
    would read back a promise the debtor never made."""
    if base is None:
        return request
    amount, day = own.get("amount"), own.get("date")
    return Request(
        amount=request.amount or (Decimal(amount) if amount and base.kind == "promise" else None),
        due=request.due or (date.fromisoformat(day) if day and base.kind in PROMISED else None),
        installments=request.installments,
        frequency=request.frequency or base.frequency,
    )


def own_terms(answer: Answer, asked: Request | None) -> dict[str, str]:
    """The terms of a promise on the table that are the debtor's own: all of an exact
    answer, else those of `asked` the policy's counter kept."""
    offer = answer.offer
    if offer is None or offer.kind not in PROMISED:
        return {}
    own: dict[str, str] = {}
    if offer.kind == "promise" and (answer.exact or (asked and asked.amount == offer.total)):
        own["amount"] = str(offer.total)
    if answer.exact or (asked and asked.due == offer.first_due):
        own["date"] = offer.first_due.isoformat()
    return own


def describe(offer: Offer) -> str:
    """A compact line for the negotiation history a human will read."""
    return f"{offer.kind} {offer.total} x{offer.count} {offer.frequency or ''} {offer.first_due}"


def present(out: Outcome, facts: Facts, answer: Answer, asked: Request | None = None) -> Outcome:
    """Say the policy's answer: confirm the debtor's offer (`asked`), or counter with the
    nearest one."""
    if answer.needs_human:
        return hand_off(out, "needs_approval", key="negotiate.approval", queue="approvals",
                        note="; ".join(out.state.history))
    offer = answer.offer
    if offer is None or not allowed(facts, offer):
        return hand_off(out, "no_offer_in_policy", key="negotiate.handoff", queue="negotiation",
                        note="; ".join(out.state.history))
    out.state.clear_table()
    out.state.table(offer)
    out.state.promise = own_terms(answer, asked)  # what a counter-offer may leave out
    out.state.history.append(describe(offer))
    key = f"{offer.kind}.{'confirm' if answer.exact else 'counter'}"
    if offer.kind == "extension" and facts.promised:
        key += "_rest"  # not the balance: what the pending promises leave of it
    return out.say(key, debt=True, choices=YES_NO, lead=beside_pending(facts, offer.kind),
                   **offer_slots(offer, facts))


def present_options(out: Outcome, facts: Facts, options: list[Offer], key: str) -> Outcome:
    """Several offers at once (each checked), to choose from by number or button."""
    options = [o for o in options if allowed(facts, o)]
    if not options:
        return hand_off(out, "no_offer_in_policy", key="negotiate.handoff", queue="negotiation")
    out.state.clear_table()
    out.state.flow = "options"
    out.state.options = [o.to_dict() for o in options]
    out.state.history.extend(describe(o) for o in options)
    choices = tuple(choice(f"option.{o.kind}", f"option:{i}") for i, o in enumerate(options))
    agent = choice("choice.agent", "intent:request_agent")
    replacing = any(beside_pending(facts, o.kind) == "plan.replaces_promises" for o in options)
    return out.say(key, debt=True, choices=(*choices, agent),
                   lead="plan.option_replaces_promises" if replacing else None,
                   options=[offer_slots(o, facts) for o in options], currency=facts.currency)


def choose(out: Outcome, facts: Facts, index: int) -> Outcome:
    """The debtor picked option `index`: agree to it."""
    options = out.state.options
    if not 0 <= index < len(options):
        return out.say("negotiate.which", choices=())
    out.state.offer = options[index]
    return accept(out, facts)


def accept(out: Outcome, facts: Facts) -> Outcome:
    """Yes to the offer on the table: record it (checked once more right before)."""
    offer = out.state.tabled()
    if offer is None:
        return out
    if not allowed(facts, offer):
        return hand_off(out, "offer_out_of_policy", key="negotiate.handoff", queue="negotiation")
    out.state.clear_table()
    out.state.rounds = 0
    if offer.kind in ("promise", "extension") and facts.active_plan:
        return out.say("promise.beside_plan", debt=True)
    out.do(*record(offer))
    # A new plan or settlement supersedes the active plan (ledger.record_plan): say so.
    lead = "plan.replaces" if facts.active_plan and offer.kind in ("plan", "settlement") else None
    key = f"{offer.kind}.recorded"
    if offer.kind == "promise" and offer.first_due == facts.today:
        # Due today, as the today-part of an offer in parts: the link to pay it now.
        out.do(IssuePaymentLink(offer.total))
        key = "promise.recorded_today"
    return out.say(key, debt=True, lead=lead, **offer_slots(offer, facts))


def record(offer: Offer) -> list[Effect]:
    """The effects that make an agreed offer real."""
    if offer.kind == "full":
        return [IssuePaymentLink(offer.total)]
    if offer.kind in ("promise", "extension"):
        return [RecordPromise(offer.total, offer.first_due, offer.kind)]
    return [RecordPlan(offer), IssuePaymentLink(offer.schedule[0].amount if offer.schedule
                                               else offer.total)]


def spend_round(out: Outcome, facts: Facts) -> bool:
    """Count a negotiation round; True (after handing off) once the policy's maximum is hit."""
    out.state.rounds += 1
    if out.state.rounds <= facts.policy.max_rounds:
        return False
    out.state.rounds = 0
    hand_off(out, "negotiation_rounds", key="negotiate.handoff", queue="negotiation",
             note="; ".join(out.state.history[-10:]))
    return True


def reject(out: Outcome, facts: Facts) -> Outcome:
    """No to the offer on the table: ask what would work, within the rounds allowed."""
    offer = out.state.tabled()
    kind = offer.kind if offer else "plan"
    if spend_round(out, facts):
        return out
    out.state.options = []
    out.state.parts = []
    out.state.flow = f"counter:{kind}"  # the rejected offer stays as the base of a counter
    return out.say(f"negotiate.ask.{kind}")


def counter(out: Outcome, turn: Turn, facts: Facts, kind: str) -> Outcome:
    """New numbers from the debtor: accept when inside, else counter with the nearest."""
    if spend_round(out, facts):
        return out
    request = merged(request_of(turn), out.state.tabled(), out.state.promise)
    if kind == "full" and request.amount is not None and not request.installments:
        kind = "settlement"
    if kind == "promise" and (request.amount is None or request.due is None):
        return _ask_promise(out, request)
    if kind == "settlement" and request.amount is None:
        out.state.clear_table()
        out.state.options = []
        out.state.flow = "counter:settlement"  # the amount comes next
        return out.say("negotiate.ask.settlement")
    terms = terms_for(facts, kind=kind)
    if kind in PROMISED and terms.balance <= 0:
        return covered(out, facts)
    answer = judge_of(facts).answer(kind, request, terms)
    if kind == "settlement" and answer.offer is None and not answer.needs_human:
        return present_options(out, facts, judge_of(facts).proposals(facts.terms),
                               "negotiate.settlement_refused")
    return present(out, facts, answer, request)


def _ask_promise(out: Outcome, request: Request) -> Outcome:
    """A promise with a term missing ("100 on my next payday" refusing the bot's day, a day
    answering a plan): build it, asking for what is missing."""
    out.state.clear_table()
    out.state.options = []
    slots = {"amount": str(request.amount)} if request.amount else {}
    if request.due:
        slots["date"] = request.due.isoformat()
    out.state.promise = slots
    out.state.flow = "promise"
    return out.say("promise.ask_date" if request.amount else "promise.ask_amount")


# A lump sum for less than the balance ("would you accept 2000 to settle this", "me hacen
# una quita"); "pay off" is left out: paying off is paying the whole balance.
SETTLE_WORDS = re.compile(
    r"\b(settle\w*|settlement|lump ?sum|discount\w*|accept less|take less|less than the full"
    r"|reduc\w+|forgive\w*|liquid\w+|saldar|finiquit\w+|quita|descuento|rebaja\w*|arreglo"
    r"|perdon\w*|condon\w*|quedar a mano|a mano)\b")


def wants_settlement(turn: Turn) -> bool:
    """The debtor asks to close the debt for less, in one payment."""
    plain = unicodedata.normalize("NFKD", turn.text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return SETTLE_WORDS.search(plain) is not None


def kind_from(turn: Turn) -> str:
    """What the numbers of an unprompted counter-offer most likely describe."""
    if turn.installments() or turn.frequency():
        return "plan"
    if wants_settlement(turn):
        return "settlement"
    if turn.date() and turn.amount():
        return "promise"
    if turn.date():
        return "extension"
    return "plan"
