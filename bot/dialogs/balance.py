"""What is owed and who is asking: answered from the ledger, only to a verified debtor."""

from __future__ import annotations

from bot.dialogs.base import Outcome, choice
from bot.facts import Facts

NEXT_STEPS = (
    choice("choice.pay", "intent:pay_in_full"),
    choice("choice.plan", "intent:request_payment_plan"),
    choice("choice.later", "intent:promise_to_pay"),
)


def ask_balance(out: Outcome, facts: Facts) -> Outcome:
    """The balance, the creditor and the account's last digits, with the ways forward: a new
    question, so an offer on the table is no longer what a yes answers."""
    out.state.clear_table()
    if facts.paid:
        return out.say("balance.paid", debt=True)
    key = ("balance.answer_current" if facts.days_past_due <= 0
           else "balance.answer_one_day" if facts.days_past_due == 1 else "balance.answer")
    return out.say(
        _naming(key, facts), debt=True, choices=NEXT_STEPS, amount=facts.balance,
        currency=facts.currency, creditor=facts.creditor, reference=facts.reference_tail,
        days=facts.days_past_due,
    )


def ask_who(out: Outcome, facts: Facts) -> Outcome:
    """Who writes, for whom, and that it is an automated assistant."""
    return out.say(_naming("who.verified", facts), debt=True, creditor=facts.creditor,
                   reference=facts.reference_tail)


def _naming(key: str, facts: Facts) -> str:
    """`key`, or its variant saying "your account PI-1" when the reference is said whole:
    "the account ending PI-1" would read as if PI-1 were its last digits."""
    return f"{key}.whole_reference" if facts.reference_whole else key
