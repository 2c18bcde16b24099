"""Paying now: a link for the right amount, never card numbers in chat; a later day is a promise."""

from __future__ import annotations

from bot.dialogs import plan, promise
from bot.dialogs.base import Outcome, Turn, choice
from bot.dialogs.negotiation import allowed
from bot.effects import IssuePaymentLink
from bot.facts import Facts, Offer


def pay_in_full(out: Outcome, facts: Facts) -> Outcome:
    """A link for the whole balance, straight from the ledger (or what an agreed settlement
    still needs, opening until its deadline: paying the balance would overpay it)."""
    if facts.paid:
        return out.say("balance.paid", debt=True)
    if facts.settlement_left is not None and facts.settlement_left > 0:
        out.state.clear_table()
        return out.do(IssuePaymentLink(facts.settlement_left, facts.settlement_due)).say(
            "pay.settlement_link", debt=True, amount=facts.settlement_left,
            currency=facts.currency)
    offer = Offer("full", facts.balance, facts.today)
    if not allowed(facts, offer):
        return out.say("fallback.clarify")
    out.state.clear_table()
    out.state.flow = "linked"
    return out.do(IssuePaymentLink(facts.balance)).say(
        "pay.link", debt=True, amount=facts.balance, currency=facts.currency
    )


def pay_partial(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """A link for the amount offered now (asking for it when missing); with a day to come
    ("I can pay 100 on December 10") the promise capture takes it, amount and day; an
    amount every period ("100 every 2 weeks") is a plan."""
    amount = turn.amount()
    if facts.paid:
        return out.say("balance.paid", debt=True)
    if plan.offered(turn):
        return plan.request_plan(out, turn, facts)
    if for_a_later_day(turn, facts):
        return promise.capture(out, turn, facts)
    if amount is None:
        out.state.clear_table()
        out.state.flow = "partial"
        return out.say("pay.partial.ask", debt=True)
    if amount >= min(facts.balance, facts.settlement_left or facts.balance):
        return pay_in_full(out, facts)
    out.state.clear_table()
    out.state.flow = "linked"  # "actually make it 100" changes this link's amount
    return out.do(IssuePaymentLink(amount)).say(
        "pay.partial.link", debt=True, amount=amount, balance=facts.balance - amount,
        currency=facts.currency,
    )


def for_a_later_day(turn: Turn, facts: Facts) -> bool:
    """The message names a day after the debtor's today: money then, not now."""
    day = turn.date()
    return day is not None and day > facts.today


def payment_methods(out: Outcome, facts: Facts) -> Outcome:
    """How to pay: the secure page takes cards and bank transfers. A yes after it answers
    no offer read back before it."""
    out.state.drop_offer()
    choices = () if facts.paid else (choice("choice.pay", "intent:pay_in_full"),)
    return out.say("pay.methods", debt=True, choices=choices)
