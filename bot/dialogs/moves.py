"""Moving a pending promise to another day: read back, confirmed, the same promise moved."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from bot.dialogs.base import YES_NO, Outcome, Turn, choice
from bot.dialogs.handoff import hand_off
from bot.dialogs.negotiation import judge_of, moves_left, note_asked, spend_round, terms_for
from bot.effects import IssuePaymentLink, MovePromise
from bot.facts import Facts, Installment, Offer, Request

AGENT = (choice("choice.agent", "intent:request_agent"),)


def candidates(turn: Turn, facts: Facts) -> list[Installment]:
    """The pending promises the debtor may mean: the one on the day they give up, else
    all of them; of those, the ones of the amount they name."""
    pending = list(facts.pending_promises)
    named = [p for p in pending if p.due == turn.moved_from()]
    pending = named or pending
    amount = turn.amount()
    return [p for p in pending if amount is None or p.amount == amount]


def wanted(turn: Turn, facts: Facts, *, offer_open: bool) -> bool:
    """The message asks to move a pending promise rather than make another one: it names
    a pending promise's day as the one given up, or asks to move a payment."""
    if facts.active_plan or turn.parts() or turn.installments() or turn.frequency():
        return False
    if not candidates(turn, facts):
        return False
    named = any(p.due == turn.moved_from() for p in facts.pending_promises)
    return named or turn.asks_to_move(offer_open=offer_open)


def move(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """Read the move back for a yes, counter with the latest day allowed, or ask what is
    missing (which promise, which day)."""
    if facts.paid:
        return out.say("balance.paid", debt=True)
    found = candidates(turn, facts)
    if len(found) != 1:
        out.state.clear_table()
        return out.say("promise.move_which", debt=True)
    promise = found[0]
    day = _new_day(turn, promise)
    if day is None:
        out.state.clear_table()
        out.state.flow = "move_day"
        out.state.moving = _slots(promise, promise.due)
        return _ask_day(out, promise, facts)
    return _propose(out, facts, promise, day)


def _ask_day(out: Outcome, promise: Installment, facts: Facts) -> Outcome:
    return out.say("promise.move_ask_date", debt=True, amount=promise.amount,
                   date=promise.due, currency=facts.currency)


def another_day(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """A day for the promise being moved (asked for, or instead of the one read back)."""
    promise = _moving(out, facts)
    day = turn.date()
    if promise is None:
        return _gone(out)
    if day is None or day == turn.moved_from():
        return _ask_day(out, promise, facts)
    _note_move(out, promise, day)  # before a round may run out: the note leads with it
    if out.state.flow == "move" and spend_round(out, facts):
        return out
    return _propose(out, facts, promise, day)


def accept(out: Outcome, facts: Facts) -> Outcome:
    """Yes to the move read back: move it (checked once more right before)."""
    promise = _moving(out, facts)
    if promise is None:
        return _gone(out)
    day = date.fromisoformat(out.state.moving["to"])
    if moves_left(facts, promise) <= 0 or not _allowed(facts, promise.amount, day):
        return hand_off(out, "offer_out_of_policy", key="negotiate.handoff", queue="negotiation")
    out.state.clear_table()
    out.state.rounds = 0
    out.do(MovePromise(promise.amount, promise.due, day))
    slots: dict[str, Any] = dict(
        amount=promise.amount, date=day, old_date=promise.due, currency=facts.currency
    )
    if day == facts.today:  # as a part due today: the link to pay it now
        return out.do(IssuePaymentLink(promise.amount)).say(
            "promise.moved_today", debt=True, **slots
        )
    return out.say("promise.moved", debt=True, **slots)


def reject(out: Outcome, facts: Facts) -> Outcome:
    """No to the move: the promise stays as it is."""
    promise = _moving(out, facts)
    out.state.clear_table()
    if promise is None:
        return _gone(out)
    return out.say(
        "promise.move_kept",
        debt=True,
        amount=promise.amount,
        date=promise.due,
        currency=facts.currency,
    )


def _new_day(turn: Turn, promise: Installment) -> date | None:
    day = turn.date()
    return None if day is None or day == turn.moved_from() else day


def _propose(out: Outcome, facts: Facts, promise: Installment, day: date) -> Outcome:
    """The new day judged as a new promise's day would be; read back with the old one."""
    state = out.state
    _note_move(out, promise, day)
    slots: dict[str, Any] = dict(
        amount=promise.amount, old_date=promise.due, currency=facts.currency
    )
    if moves_left(facts, promise) <= 0:
        state.clear_table()
        return out.say("promise.move_limit", debt=True, choices=AGENT, date=promise.due, **slots)
    if day == promise.due:
        state.clear_table()
        return out.say("promise.already", debt=True, date=day, **slots)
    # A moved promise keeps its money: judged against the balance, not against what pending
    # promises (itself among them) leave of it.
    answer = judge_of(facts).answer("promise", Request(promise.amount, day), terms_for(facts))
    offer = answer.offer
    if answer.needs_human:
        return hand_off(
            out,
            "needs_approval",
            key="negotiate.approval",
            queue="approvals",
            note=f"move promise {promise.amount} {promise.due} -> {day}",
        )
    if offer is None or offer.total != promise.amount:
        return hand_off(
            out,
            "no_offer_in_policy",
            key="negotiate.handoff",
            queue="negotiation",
            note=f"move promise {promise.amount} {promise.due} -> {day}",
        )
    state.clear_table()
    state.flow = "move"
    state.moving = _slots(promise, offer.first_due)
    state.remember(f"move promise {promise.amount} {promise.due} -> {offer.first_due}")
    key = "promise.move_confirm" if answer.exact else "promise.move_counter"
    if answer.exact and offer.first_due == facts.today:
        key = "promise.move_confirm_today"
    return out.say(key, debt=True, choices=YES_NO, date=offer.first_due, **slots)


def _note_move(out: Outcome, promise: Installment, day: date) -> None:
    """What the debtor asked: this promise on that day."""
    note_asked(out, f"move promise {promise.amount} {promise.due} -> {day}")


def _allowed(facts: Facts, amount: Decimal, day: date) -> bool:
    offer = Offer("promise", amount, day)
    return judge_of(facts).check(offer, terms_for(facts)).allowed


def _slots(promise: Installment, to: date) -> dict[str, str]:
    return {"amount": str(promise.amount), "from": promise.due.isoformat(), "to": to.isoformat()}


def _moving(out: Outcome, facts: Facts) -> Installment | None:
    """The pending promise being moved, as the ledger has it now (None once it is not)."""
    moving = out.state.moving
    if not moving:
        return None
    key = (date.fromisoformat(moving["from"]), Decimal(moving["amount"]))
    return next((p for p in facts.pending_promises if (p.due, p.amount) == key), None)


def _gone(out: Outcome) -> Outcome:
    out.state.clear_table()
    return out.say("promise.move_gone", debt=True)
