"""THE decision: is an offer inside a portfolio's policy? Every offer the bot says passes here."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from backend.services.policy import money, schedule
from backend.services.policy.model import Policy
from bot.facts import Installment, Offer, Terms, Verdict

ALLOWED = Verdict(True)
WHOLE_UNITS = "amounts are whole minor units of the currency"


def evaluate(
    policy: Policy, offer: Offer, terms: Terms, *, currency: str | None = None
) -> Verdict:
    """Allowed, refused with the reason, or allowed only with a human's approval.

    Amounts are whole minor units of `currency` (yen for JPY, cents for USD, fils for BHD;
    cents when no currency is given).
    """
    problem = _common(offer, terms, currency)
    if problem:
        return Verdict(False, problem)
    if offer.kind == "plan":
        return _plan(policy, offer, terms, currency)
    if offer.kind == "settlement":
        return _settlement(policy, offer, terms, currency)
    check = {"full": _full, "promise": _promise, "extension": _extension}.get(offer.kind)
    if check is None:
        return Verdict(False, f"unknown offer kind {offer.kind!r}")
    return check(policy, offer, terms)


def _common(offer: Offer, terms: Terms, currency: str | None) -> str | None:
    if terms.balance <= 0:
        return "nothing is owed"
    if offer.total <= 0 or offer.total > terms.balance:
        return "total must be positive and at most the balance"
    if not money.is_whole(offer.total, currency):
        return WHOLE_UNITS
    if offer.first_due < terms.today:
        return "the first day is in the past"
    if offer.kind != "plan" and offer.schedule:
        return "only plans have schedules"
    return None


def _full(policy: Policy, offer: Offer, terms: Terms) -> Verdict:
    if offer.total != terms.balance:
        return Verdict(False, "payment in full is the balance")
    if offer.first_due > terms.today + timedelta(days=policy.plan.first_payment_within_days):
        return Verdict(False, "payment in full is due soon")
    return ALLOWED


def min_promise(policy: Policy, terms: Terms) -> Decimal:
    """The smallest promise allowed (never more than the balance)."""
    return min(policy.promise.min_amount, terms.balance)


def _promise(policy: Policy, offer: Offer, terms: Terms) -> Verdict:
    if offer.total < min_promise(policy, terms):
        return Verdict(False, "promise below the minimum amount")
    if offer.first_due > terms.today + timedelta(days=policy.promise.max_days_out):
        return Verdict(False, "promise too far out")
    return ALLOWED


def max_extension_days(policy: Policy, terms: Terms) -> int:
    """The longest extension (a hardship pause may be longer)."""
    days = policy.extension.max_days
    return max(days, policy.hardship.pause_days) if terms.hardship else days


def _extension(policy: Policy, offer: Offer, terms: Terms) -> Verdict:
    if offer.total != terms.balance:
        return Verdict(False, "an extension is for the balance")
    if offer.first_due <= terms.today:
        return Verdict(False, "an extension moves the day later")
    if offer.first_due > terms.today + timedelta(days=max_extension_days(policy, terms)):
        return Verdict(False, "extension too long")
    return ALLOWED


def max_discount(policy: Policy, terms: Terms) -> Decimal:
    """The largest settlement discount (percent) for the debt's age; 0 when not allowed."""
    if not policy.settlement.allowed:
        return Decimal(0)
    bands = [b for b in policy.settlement.bands if b.min_days_past_due <= terms.days_past_due]
    return bands[-1].max_discount_pct if bands else Decimal(0)


def settlement_floor(policy: Policy, terms: Terms, currency: str | None = None) -> Decimal:
    """The smallest settlement total allowed (rounded up to the currency's minor unit)."""
    return money.round_up(terms.balance * (100 - max_discount(policy, terms)) / 100, currency)


def _settlement(policy: Policy, offer: Offer, terms: Terms, currency: str | None) -> Verdict:
    if not policy.settlement.allowed:
        return Verdict(False, "settlements are not allowed")
    if offer.total < settlement_floor(policy, terms, currency):
        return Verdict(False, "discount beyond the policy")
    if offer.first_due > terms.today + timedelta(days=policy.settlement.pay_within_days):
        return Verdict(False, "settlement paid too late")
    approval = policy.approval
    discount = (terms.balance - offer.total) * 100 / terms.balance
    if approval.max_discount_pct is not None and discount > approval.max_discount_pct:
        return Verdict(False, "discount needs approval", needs_human=True)
    if approval.max_balance is not None and terms.balance > approval.max_balance:
        return Verdict(False, "balance needs approval", needs_human=True)
    return ALLOWED


def plan_months(policy: Policy, terms: Terms) -> int:
    """The longest plan the hard bounds allow."""
    return policy.hardship.max_months if terms.hardship else policy.plan.max_months


def bot_months(policy: Policy, terms: Terms) -> int:
    """The longest plan the bot may agree to alone."""
    months = plan_months(policy, terms)
    cap = policy.approval.max_months
    return months if cap is None else min(months, cap)


def min_installment(policy: Policy, terms: Terms, currency: str | None = None) -> Decimal:
    """The smallest installment allowed."""
    if terms.hardship:
        return policy.hardship.min_installment
    share = money.round_up(terms.balance * policy.plan.min_installment_pct / 100, currency)
    return max(policy.plan.min_installment, share)


def _plan(policy: Policy, offer: Offer, terms: Terms, currency: str | None) -> Verdict:
    problem = _plan_shape(policy, offer, terms, currency)
    if problem:
        return Verdict(False, problem)
    months = schedule.max_count(offer.frequency or "monthly", bot_months(policy, terms))
    if offer.count > months:
        return Verdict(False, "plan length needs approval", needs_human=True)
    if policy.approval.max_balance is not None and terms.balance > policy.approval.max_balance:
        return Verdict(False, "balance needs approval", needs_human=True)
    return ALLOWED


def _plan_shape(policy: Policy, offer: Offer, terms: Terms, currency: str | None) -> str | None:
    items = offer.schedule
    if offer.frequency not in policy.plan.frequencies:
        return "frequency not allowed"
    if not 2 <= len(items) <= schedule.max_count(offer.frequency, plan_months(policy, terms)):
        return "number of installments outside the policy"
    if offer.total != terms.balance or sum(i.amount for i in items) != offer.total:
        return "installments must add up to the balance exactly"
    if not all(money.is_whole(i.amount, currency) for i in items):
        return WHOLE_UNITS
    if min(i.amount for i in items) <= 0:
        return "every installment pays something"
    if _below_minimum(items, min_installment(policy, terms, currency)):
        return "installment below the minimum"
    if items[0].amount < policy.plan.min_down_payment:
        return "down payment below the minimum"
    if items[0].due != offer.first_due or offer.first_due > terms.today + timedelta(
        days=policy.plan.first_payment_within_days
    ):
        return "first payment too late"
    expected = [schedule.due_date(offer.first_due, offer.frequency, n) for n in range(len(items))]
    if [i.due for i in items] != expected:
        return "due dates do not follow the frequency"
    return None


def _below_minimum(items: tuple[Installment, ...], least: Decimal) -> bool:
    """An installment before the last pays less than `least`. The last is the remainder (a
    debtor's own amount each time leaves only what is left; an equal plan's last absorbs the
    rounding): folding it into the one before would ask more than the debtor said they can pay.
    """
    return any(i.amount < least for i in items[:-1])
