"""Putting offers on the table and settling them: the dialog proposes, the policy disposes."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import date
from decimal import Decimal

from bot.dialogs.base import ASKED, YES_NO, Outcome, Turn, choice, offer_slots
from bot.dialogs.handoff import hand_off
from bot.effects import Effect, IssuePaymentLink, RecordPlan, RecordPromise
from bot.entity_choice import CANNOT, CLAUSE_BREAK, NOW
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


# Offers recorded as plans: each replaces the active plan and pending promises.
PLANNED = frozenset({"plan", "settlement"})


def replaces_plan(facts: Facts, kind: str) -> bool:
    """Agreeing to an offer of `kind` would cancel the account's active plan."""
    return facts.active_plan and kind in PLANNED


def beside_pending(facts: Facts, kind: str) -> str | None:
    """The sentence telling the debtor what becomes of their active plan or pending promises:
    a plan or settlement replaces them (ledger.record_plan), a promise comes on top of the
    promises (and one may move instead, while the policy allows)."""
    if replaces_plan(facts, kind):
        return "plan.replaces_current"
    if not facts.pending_promises or facts.active_plan:
        return None
    many = len(facts.pending_promises) > 1
    if kind in PROMISED:
        key = "promise.stands_many" if many else "promise.stands"
        return key if movable(facts) else f"{key}_no_moves"
    return "plan.replaces_promises" if kind in PLANNED else None


def allowed(facts: Facts, offer: Offer) -> bool:
    """The one gate every offer passes before the bot says or records it."""
    return judge_of(facts).check(offer, terms_for(facts, offer)).allowed


def request_of(turn: Turn) -> Request:
    """The numbers in the debtor's message."""
    return Request(turn.amount(), turn.date(), turn.installments(), turn.frequency())


# "Now" as an offer in parts reads it (`bot.entity_choice.NOW`), and "ya" closing a message
# ("te pago 100 ya"): anywhere else "ya" is "already" ("ya te dije").
NOW_AT_THE_END = re.compile(r"\bya\W*$", re.IGNORECASE)


def counter_request(turn: Turn, facts: Facts, kind: str) -> Request:
    """The numbers of a counter-offer; a promise of an amount paid "now" ("actually make it
    100 now") is due today, the day an offer in parts reads in the same word. A plan's "right
    now I can only do 50 a month" names no first day."""
    request = request_of(turn)
    if kind == "promise" and request.due is None and request.amount is not None \
            and says_now(turn.text):
        return replace(request, due=facts.today)
    return request


def says_now(text: str) -> bool:
    """A clause pays at once ("now", "right now", "ahora", "ya"), not "i can't pay now"."""
    clauses = CLAUSE_BREAK.split(text)
    now = [c for c in clauses if NOW.search(c)]
    if NOW_AT_THE_END.search(text):
        now.append(clauses[-1])
    return any(CANNOT.search(clause) is None for clause in now)


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
    return " ".join(str(term) for term in (
        offer.kind, offer.total, f"x{offer.count}", offer.frequency, offer.first_due) if term)


# The most asks and offers a handoff note repeats: the latest are the ones to pick up from.
NOTE_LINES = 10


def describe_ask(kind: str, request: Request) -> str:
    """The debtor's own terms, only those they named, for the person who may take over."""
    terms = (kind, request.amount, request.installments and f"x{request.installments}",
             request.frequency, request.due and f"on {request.due}")
    return " ".join(str(term) for term in terms if term)


def note_ask(out: Outcome, kind: str, request: Request) -> None:
    """Remember what the debtor asked for (once: a counter-offer and the reply to it both
    see the same request)."""
    note_asked(out, describe_ask(kind, request))


def note_asked(out: Outcome, asked: str) -> None:
    """Remember a line of what the debtor asked for, unless it is the last one already."""
    line = ASKED + asked
    history = out.state.history
    if not history or history[-1] != line:
        out.state.remember(line)


def negotiation_note(history: list[str]) -> str:
    """The handoff note: what the debtor asked for first (the agent's starting point), then
    what the bot offered, each in the order said."""
    asked = [line.removeprefix(ASKED) for line in history if line.startswith(ASKED)]
    offered = [line for line in history if not line.startswith(ASKED)]
    note = []
    if asked:  # the first ask, then the latest: what the agent starts from, and where it got
        note.append("debtor asked: " + ", ".join(asked[:1] + asked[1:][-(NOTE_LINES - 1):]))
    if offered:
        note.append("offered: " + ", ".join(offered[-NOTE_LINES:]))
    return "; ".join(note)


def present(out: Outcome, facts: Facts, answer: Answer, asked: Request | None = None) -> Outcome:
    """Say the policy's answer: confirm the debtor's offer (`asked`), or counter with the
    nearest one."""
    offer = answer.offer
    if asked is not None and offer is not None:
        note_ask(out, offer.kind, asked)
    if answer.needs_human:
        return hand_off(out, "needs_approval", key="negotiate.approval", queue="approvals",
                        note=negotiation_note(out.state.history))
    if offer is None or not allowed(facts, offer):
        return hand_off(out, "no_offer_in_policy", key="negotiate.handoff", queue="negotiation",
                        note=negotiation_note(out.state.history))
    out.state.clear_table()
    out.state.table(offer)
    out.state.promise = own_terms(answer, asked)  # what a counter-offer may leave out
    out.state.remember(describe(offer))
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
    out.state.remember(*(describe(o) for o in options))
    choices = tuple(choice(f"option.{o.kind}", f"option:{i}") for i, o in enumerate(options))
    agent = choice("choice.agent", "intent:request_agent")
    return out.say(key, debt=True, choices=(*choices, agent), lead=_options_lead(facts, options),
                   options=[offer_slots(o, facts) for o in options], currency=facts.currency)


def _options_lead(facts: Facts, options: list[Offer]) -> str | None:
    """What choosing a plan among the options would replace: the active plan, else the
    pending promises."""
    leads = {beside_pending(facts, o.kind) for o in options}
    if "plan.replaces_current" in leads:
        return "plan.option_replaces_current"
    return "plan.option_replaces_promises" if "plan.replaces_promises" in leads else None


def choose(out: Outcome, facts: Facts, index: int) -> Outcome:
    """The debtor picked option `index`: agree to it; one that would replace the active plan
    is read back first, recorded only on a clear yes."""
    options = out.state.options
    if not 0 <= index < len(options):
        return out.say("negotiate.which", choices=())
    picked = Offer.from_dict(options[index])
    if replaces_plan(facts, picked.kind):
        return present(out, facts, Answer(picked, exact=True))
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
    lead = "plan.replaces" if replaces_plan(facts, offer.kind) else None
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
    first = offer.schedule[0] if offer.schedule else Installment(offer.first_due, offer.total)
    return [RecordPlan(offer), IssuePaymentLink(first.amount, first.due)]


def spend_round(out: Outcome, facts: Facts) -> bool:
    """Count a negotiation round; True (after handing off) once the policy's maximum is hit."""
    out.state.rounds += 1
    if out.state.rounds <= facts.policy.max_rounds:
        return False
    out.state.rounds = 0
    hand_off(out, "negotiation_rounds", key="negotiate.handoff", queue="negotiation",
             note=negotiation_note(out.state.history))
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
    """New numbers from the debtor: accept when inside, else counter with the nearest. Numbers
    no worse for the creditor than the offer on the table spend no round: those of the offer
    itself ("ok 163.54 a month then") take it, read back for a yes."""
    request = merged(counter_request(turn, facts, kind), out.state.tabled(), out.state.promise)
    if kind == "full" and request.amount is not None and not request.installments:
        kind = "settlement"
    note_ask(out, kind, request)
    if request.due is not None and request.due < facts.today:
        return _ask_another_day(out, facts, kind)
    on_table = answered_offer(out, kind)
    if on_table is not None and names_only(request, on_table):
        return present(out, facts, Answer(on_table, exact=True), request)
    if (on_table is None or not no_worse(request, on_table)) and spend_round(out, facts):
        return out
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


def _ask_another_day(out: Outcome, facts: Facts, kind: str) -> Outcome:
    """A day already past answering an offer: no policy can agree it, so the debtor is told
    and asked for another day, the offer answered staying the base of their next counter.
    Each such answer spends a round: only repeated ones go to a person."""
    if spend_round(out, facts):
        return out
    out.state.options = []
    out.state.parts = []
    out.state.flow = f"counter:{kind}"
    return out.say("extension.ask_date", debt=True)


def answered_offer(out: Outcome, kind: str) -> Offer | None:
    """The one offer on the table a counter-offer of `kind` answers (parts are two offers)."""
    tabled = out.state.tabled()
    return tabled if tabled is not None and tabled.kind == kind and not out.state.parts else None


def names_only(request: Request, offer: Offer) -> bool:
    """Every number the debtor named is the offer's own: they take it, in its words."""
    return request.amount in (None, _asked_amount(offer)) \
        and request.due in (None, offer.first_due) \
        and request.installments in (None, offer.count) \
        and request.frequency in (None, offer.frequency) and _names_terms(request)


def no_worse(request: Request, offer: Offer) -> bool:
    """The debtor's numbers give the creditor at least the offer: as much or more each time,
    as soon or sooner, in as few payments or fewer, as often."""
    return (request.amount is None or request.amount >= _asked_amount(offer)) \
        and (request.due is None or request.due <= offer.first_due) \
        and (request.installments is None or request.installments <= offer.count) \
        and request.frequency in (None, offer.frequency) and _names_terms(request)


def _names_terms(request: Request) -> bool:
    """An amount, a day or a count: a frequency alone changes nothing on the table."""
    return any((request.amount, request.due, request.installments))


def _asked_amount(offer: Offer) -> Decimal:
    """The amount a debtor repeats to take an offer: a plan's installment, else its total."""
    return offer.installment if offer.kind == "plan" else offer.total


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
    r"|reduc\w+|forgive\w*|close (?:it|this|that) out|close out (?:the|my|this) account"
    r"|close (?:the|my|this) account|call it (?:even|square|done)|pay (?:it|this|that) off for"
    r"|liquid\w+|saldar\w*|finiquit\w+|(?:cerrar|cerramos|cierr\w+) (?:la|mi|esta) (?:cuenta|deuda)"
    r"|quita|descuento|rebaja\w*|arreglo|perdon\w*|condon\w*|quedar a mano|a mano)\b")


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
