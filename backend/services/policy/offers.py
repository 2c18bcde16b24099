"""Offer generation: pay in full first, then plans that fit; counter a request with the nearest."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from backend.services.policy import money, rules, schedule
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


def plan(
    policy: Policy, terms: Terms, count: int, frequency: str, first: date,
    currency: str | None = None,
) -> Offer:
    """A plan of `count` installments of the balance, in whole minor units of `currency`."""
    down = policy.plan.min_down_payment or None
    return Offer(
        "plan", terms.balance, first,
        schedule.build(terms.balance, count, frequency, first, down, currency),
        frequency, terms.hardship,
    )


def plan_counts(
    policy: Policy, terms: Terms, frequency: str, currency: str | None = None
) -> list[int]:
    """Every installment count the bot may offer alone for `frequency`, fewest first."""
    limit = schedule.max_count(frequency, rules.bot_months(policy, terms))
    first = first_due(policy, terms)
    return [
        n for n in range(2, limit + 1)
        if rules.evaluate(policy, plan(policy, terms, n, frequency, first, currency), terms,
                          currency=currency).allowed
    ]


def proposals(policy: Policy, terms: Terms, currency: str | None = None) -> list[Offer]:
    """Payment in full, then the shortest and the most affordable plan (when they differ)."""
    offers = [full(terms)]
    for frequency in policy.frequencies:
        counts = plan_counts(policy, terms, frequency, currency)
        if counts:
            first = first_due(policy, terms)
            picks = sorted({counts[0], counts[-1]})
            offers += [plan(policy, terms, n, frequency, first, currency) for n in picks]
            break
    return [o for o in offers if rules.evaluate(policy, o, terms, currency=currency).allowed]


def answer(
    policy: Policy, kind: str, request: Request, terms: Terms, currency: str | None = None
) -> Answer:
    """The request itself when the bot may agree, a human when only one may, else the nearest.

    `exact` is only ever the debtor's own numbers; anything else is a counter-offer.
    """
    build = _BUILDERS.get(kind)
    if build is None or terms.balance <= 0:
        return Answer(None)
    exact, nearest = build(policy, request, terms, currency)
    if exact is not None:
        verdict = rules.evaluate(policy, exact, terms, currency=currency)
        if verdict.allowed:
            return Answer(exact, exact=True)
        if verdict.needs_human:
            return Answer(None, needs_human=True)
    if nearest is not None and rules.evaluate(policy, nearest, terms, currency=currency).allowed:
        return Answer(nearest)
    return Answer(None)


Built = tuple[Offer | None, Offer | None]
MAX_ASKED = 1000  # more installments than this is not a plan anyone means


def _clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return max(low, min(value, high))


def _full(policy: Policy, request: Request, terms: Terms, currency: str | None) -> Built:
    return full(terms), None


def _promise(policy: Policy, request: Request, terms: Terms, currency: str | None) -> Built:
    if request.amount is None or request.due is None:
        return None, None
    exact = Offer("promise", request.amount, request.due, hardship=terms.hardship)
    amount = _clamp(money.round_half_even(request.amount, currency),
                    money.round_up(rules.min_promise(policy, terms), currency), terms.balance)
    latest = terms.today + timedelta(days=policy.promise.max_days_out)
    due = min(max(request.due, terms.today), latest)
    return exact, Offer("promise", amount, due, hardship=terms.hardship)


def _extension(policy: Policy, request: Request, terms: Terms, currency: str | None) -> Built:
    """The asked day, else the latest the policy allows. More time "until today" is paying the
    balance today: the debtor's own day, a promise due today. A past day is no day to counter
    ("the latest I can offer is tomorrow" would be false): nothing, for the dialog to ask again.
    """
    latest = terms.today + timedelta(days=rules.max_extension_days(policy, terms))
    nearest = Offer("extension", terms.balance, latest, hardship=terms.hardship)
    if request.due is None:
        return None, nearest
    if request.due == terms.today:
        return Offer("promise", terms.balance, terms.today, hardship=terms.hardship), None
    exact = Offer("extension", terms.balance, request.due, hardship=terms.hardship)
    return exact, (None if request.due < terms.today else nearest)


def _settlement(policy: Policy, request: Request, terms: Terms, currency: str | None) -> Built:
    due = request.due or terms.today + timedelta(days=policy.settlement.pay_within_days)
    if request.amount is None or rules.max_discount(policy, terms) <= 0:
        return None, None
    exact = Offer("settlement", request.amount, due, hardship=terms.hardship)
    floor = max(rules.settlement_floor(policy, terms, currency),
                _approved_floor(policy, terms, currency))
    latest = terms.today + timedelta(days=policy.settlement.pay_within_days)
    amount = _clamp(money.round_half_even(request.amount, currency), floor, terms.balance)
    return exact, Offer("settlement", amount, min(max(due, terms.today), latest),
                        hardship=terms.hardship)


def _approved_floor(policy: Policy, terms: Terms, currency: str | None) -> Decimal:
    cap = policy.approval.max_discount_pct
    return (Decimal(0) if cap is None
            else money.round_up(terms.balance * (100 - cap) / 100, currency))


def _plan(policy: Policy, request: Request, terms: Terms, currency: str | None) -> Built:
    """The debtor's own plan (exact) and the policy's nearest plan (a counter-offer).

    An amount is the most the debtor can pay per installment: their plan pays it each time and
    the last installment what is left, so the count rounds up. When they also named a count that
    this does not match (it does not cover the balance, or it pays more than is owed), they get
    no exact plan, only the nearest: the fewest installments within their amount (and at least
    their count) that the policy allows, else the longest plan it allows.
    """
    allowed = policy.frequencies
    frequency = request.frequency if request.frequency in allowed else allowed[0]
    first = first_due(policy, terms, request.due)
    cap = _most_per_installment(request, currency)
    exact = None
    if request.frequency in (None, frequency):
        exact = _asked_plan(policy, request, terms, frequency, first, cap, currency)
    counts = plan_counts(policy, terms, frequency, currency)
    if not counts:
        return exact, None
    needed = None if cap is None else schedule.count_at_most(terms.balance, cap)
    wanted = [n for n in (request.installments, needed) if n is not None]
    target = max(wanted) if wanted else counts[-1]
    down = policy.plan.min_down_payment or None

    def over(n: int) -> bool:
        return cap is not None and max(schedule.amounts(terms.balance, n, down, currency)) > cap

    nearest = min(counts, key=lambda n: (over(n), abs(n - target), -n))
    return exact, plan(policy, terms, nearest, frequency, first, currency)


def _most_per_installment(request: Request, currency: str | None) -> Decimal | None:
    """The debtor's amount in whole minor units (never rounded up past what they offered)."""
    if request.amount is None or request.amount <= 0:
        return None
    amount = money.round_down(request.amount, currency)
    return amount if amount > 0 else None


def _asked_plan(
    policy: Policy, request: Request, terms: Terms, frequency: str, first: date,
    cap: Decimal | None, currency: str | None,
) -> Offer | None:
    """The plan the debtor's numbers describe, if they describe one."""
    if cap is None:
        count = request.installments
        if count is None or not 2 <= count <= MAX_ASKED:
            return None
        return plan(policy, terms, count, frequency, first, currency)
    count = schedule.count_at_most(terms.balance, cap)
    if request.installments not in (None, count) or not 2 <= count <= MAX_ASKED:
        return None
    return Offer("plan", terms.balance, first,
                 schedule.dated(schedule.capped(terms.balance, cap), frequency, first),
                 frequency, terms.hardship)


_BUILDERS = {
    "full": _full,
    "promise": _promise,
    "extension": _extension,
    "settlement": _settlement,
    "plan": _plan,
}
