"""Promise to pay: capture the amount and the day (asking for what is missing), then confirm."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from bot.dialogs import plan
from bot.dialogs.base import Outcome, Turn, plain
from bot.dialogs.handoff import debtor_said, hand_off
from bot.dialogs.negotiation import covered_key, judge_of, present, spend_round, terms_for
from bot.facts import Facts, Request

# The whole balance named in words: "i can pay the full balance on march 30" promises all of it.
WHOLE_BALANCE = re.compile(
    r"\b(?:(?:the\s+)?(?:full|whole|entire|total)\s+(?:balance|amount|thing|debt|bill)|"
    r"all of it|everything i owe|all (?:that )?i owe|what i owe|pay (?:it|this|that) off|"
    r"todo lo que debo|lo que debo|la deuda completa|el saldo (?:completo|total)|"
    r"todo el saldo|el total|pag\w* todo)\b",
    re.IGNORECASE)
# Taking a promise or plan back because the money is not there ("I want to cancel it, I
# can't pay anything right now"): the hardship queue's people may agree what fits instead.
CANNOT_PAY = re.compile(
    r"\b(?:(?:can'?t|cannot|can not|unable to|won'?t be able to|not able to)\s+"
    r"(?:pay|afford|make (?:it|the payments?))|(?:no|not) (?:money|income|job|work)"
    r"|lost my (?:job|income)|no (?:puedo|podre|voy a poder)\s+pagar|no tengo (?:dinero|trabajo"
    r"|ingresos|con que)|no me alcanza|sin (?:trabajo|dinero|ingresos))\b")


def withdraw(out: Outcome, turn: Turn) -> Outcome:
    """The debtor takes back a promise or plan ("please cancel the promise"): a person goes
    over it with them, so the bot neither cancels nor opts them out; the promise stays as
    recorded until that person acts. Said before verification too: the reply names no debt."""
    hardship = CANNOT_PAY.search(plain(turn.text)) is not None
    reason, queue = ("hardship", "hardship") if hardship else ("reconciliation", "payments")
    note = debtor_said(out, turn, "asks to cancel a promise or plan")
    return hand_off(out, reason, key="commitment.withdraw", queue=queue, priority=1, note=note)


def capture(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """Merge this message's amount/date into the promise being built; ask or propose."""
    state = out.state
    if plan.offered(turn):
        return plan.request_plan(out, turn, facts)
    if facts.active_plan:
        # A promise beside a plan would count the same payment twice; the plan takes it.
        state.clear_table()
        state.promise, state.flow = {}, None
        return out.say("promise.beside_plan", debt=True)
    slots = dict(state.promise)
    if turn.amount() is not None:
        slots["amount"] = str(turn.amount())
    elif WHOLE_BALANCE.search(turn.text) and facts.balance > 0:
        slots["amount"] = str(facts.balance)
    if turn.date() is not None:
        slots["date"] = turn.date().isoformat()  # type: ignore[union-attr]
    state.clear_table()
    state.promise = slots
    state.flow = "promise"
    if "date" in slots and date.fromisoformat(slots["date"]) < facts.today:
        return _ask_another_day(out, facts)
    if "amount" not in slots:
        return out.say("promise.ask_amount", debt=True)
    if "date" not in slots:
        return out.say("promise.ask_date", debt=True)
    request = Request(Decimal(slots["amount"]), date.fromisoformat(slots["date"]))
    already = _already(request, facts)
    if already is not None:
        state.promise, state.flow = {}, None
        return out.say(already, debt=True, amount=request.amount, date=request.due,
                       currency=facts.currency)
    return present(
        out,
        facts,
        judge_of(facts).answer("promise", request, terms_for(facts, kind="promise")),
        request,
    )


def _ask_another_day(out: Outcome, facts: Facts) -> Outcome:
    """A day already past: no policy can agree it, so the debtor is told and asked for another,
    the amount kept. Each such answer spends a round: only repeated ones go to a person."""
    del out.state.promise["date"]
    if spend_round(out, facts):
        out.state.promise, out.state.flow = {}, None
        return out
    return out.say("extension.ask_date", debt=True)


def _already(request: Request, facts: Facts) -> str | None:
    """Why no new promise is needed: the same one is pending, or pending ones cover it all."""
    if any((p.due, p.amount) == (request.due, request.amount) for p in facts.pending_promises):
        return "promise.already"
    if facts.promised >= facts.balance:
        return covered_key(facts)
    return None
