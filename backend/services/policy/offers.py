"""Offer generation: pay in full first, then plans that fit; counter a request with the nearest."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from backend.services.policy import rules, schedule
from backend.services.policy.model import Policy
from bot.facts import Answer, Offer, Request, Terms

DEFAULT_FIRST_DAYS = 7


def full(terms: Terms) -> Offer:
    """The balance, today."""
    return Offer("full", terms.balance, terms.today, hardship=terms.hardship)


def first_due(policy: Policy, terms: Terms, wanted: date | None = None) -> date:
    """The wanted first day when inside the window, else a week out (or the window's end)."""
    window = policy.plan.first_payment_within_days
    latest = terms.today + timedelta(days=window)
    if wanted is not None and terms.today <= wanted <= latest:
        return wanted
    return terms.today + timedelta(days=min(DEFAULT_FIRST_DAYS, window))


def plan(policy: Policy, terms: Terms, count: int, frequency: str, first: date) -> Offer:
    """A plan of `count` installments of the balance."""
    down = policy.plan.min_down_payment or None
    return Offer(
        "plan", terms.balance, first, schedule.build(terms.balance, count, frequency, first, down),
        frequency, terms.hardship,
    )


def plan_counts(policy: Policy, terms: Terms, frequency: str) -> list[int]:
    """Every installment count the bot may offer alone for `frequency`, fewest first."""
    limit = schedule.max_count(frequency, rules.bot_months(policy, terms))
    first = first_due(policy, terms)
    return [
        n for n in range(2, limit + 1)
        if rules.evaluate(policy, plan(policy, terms, n, frequency, first), terms).allowed
    ]


def proposals(policy: Policy, terms: Terms) -> list[Offer]:
    """Payment in full, then the shortest and the most affordable plan (when they differ)."""
    offers = [full(terms)]
    for frequency in policy.frequencies:
        counts = plan_counts(policy, terms, frequency)
        if counts:
            first = first_due(policy, terms)
            picks = sorted({counts[0], counts[-1]})
            offers += [plan(policy, terms, n, frequency, first) for n in picks]
            break
    return [o for o in offers if rules.evaluate(policy, o, terms).allowed]


def answer(policy: Policy, kind: str, request: Request, terms: Terms) -> Answer:
    """The request itself when the bot may agree, a human when only one may, else the nearest."""
    build = _BUILDERS.get(kind)
    if build is None or terms.balance <= 0:
        return Answer(None)
    exact, nearest = build(policy, request, terms)
    if exact is not None:
        verdict = rules.evaluate(policy, exact, terms)
        if verdict.allowed:
            return Answer(exact, exact=True)
        if verdict.needs_human:
            return Answer(None, needs_human=True)
    if nearest is not None and rules.evaluate(policy, nearest, terms).allowed:
        return Answer(nearest)
    return Answer(None)


Built = tuple[Offer | None, Offer | None]


def _clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return max(low, min(value, high))


def _promise(policy: Policy, request: Request, terms: Terms) -> Built:
    if request.amount is None or request.due is None:
        return None, None
    exact = Offer("promise", request.amount, request.due, hardship=terms.hardship)
    amount = _clamp(request.amount.quantize(Decimal("0.01")),
                    rules.min_promise(policy, terms), terms.balance)
    latest = terms.today + timedelta(days=policy.promise.max_days_out)
    due = min(max(request.due, terms.today), latest)
    return exact, Offer("promise", amount, due, hardship=terms.hardship)


def _extension(policy: Policy, request: Request, terms: Terms) -> Built:
    latest = terms.today + timedelta(days=rules.max_extension_days(policy, terms))
    nearest = Offer("extension", terms.balance, latest, hardship=terms.hardship)
    if request.due is None:
        return None, nearest
    exact = Offer("extension", terms.balance, request.due, hardship=terms.hardship)
    if request.due <= terms.today:
        return exact, Offer("extension", terms.balance, terms.today + timedelta(days=1),
                            hardship=terms.hardship)
    return exact, nearest


def _settlement(policy: Policy, request: Request, terms: Terms) -> Built:
    due = request.due or terms.today + timedelta(days=policy.settlement.pay_within_days)
    if request.amount is None or rules.max_discount(policy, terms) <= 0:
        return None, None
    exact = Offer("settlement", request.amount, due, hardship=terms.hardship)
    floor = max(rules.settlement_floor(policy, terms), _approved_floor(policy, terms))
    latest = terms.today + timedelta(days=policy.settlement.pay_within_days)
    amount = _clamp(request.amount.quantize(Decimal("0.01")), floor, terms.balance)
    return exact, Offer("settlement", amount, min(max(due, terms.today), latest),
                        hardship=terms.hardship)


def _approved_floor(policy: Policy, terms: Terms) -> Decimal:
    cap = policy.approval.max_discount_pct
    return Decimal(0) if cap is None else schedule.cents_up(terms.balance * (100 - cap) / 100)


def _plan(policy: Policy, request: Request, terms: Terms) -> Built:
    allowed = policy.frequencies
    frequency = request.frequency if request.frequency in allowed else allowed[0]
    first = first_due(policy, terms, request.due)
    wanted = _wanted_count(request, terms)
    exact = None
    if wanted is not None and 2 <= wanted <= 1000 and request.frequency in (None, frequency):
        exact = plan(policy, terms, wanted, frequency, first)
    counts = plan_counts(policy, terms, frequency)
    if not counts:
        return exact, None
    target = wanted if wanted is not None else counts[-1]
    nearest = min(counts, key=lambda n: (abs(n - target), -n))
    return exact, plan(policy, terms, nearest, frequency, first)


def _wanted_count(request: Request, terms: Terms) -> int | None:
    if request.installments is not None:
        return request.installments
    if request.amount is not None and request.amount > 0:
        return int(-(-terms.balance // request.amount))
    return None


_BUILDERS = {
    "full": lambda policy, request, terms: (full(terms), None),
    "promise": _promise,
    "extension": _extension,
    "settlement": _settlement,
    "plan": _plan,
}
