"""A counter-offer answering the bot's counter keeps only the terms the debtor named: a day the
bot proposed and the debtor answered with other numbers is refused, never read back to them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from bot.effects import RecordPromise
from tests.bot.helpers import T0, Transcript, keys, make_facts, texts

LATEST = T0.date() + timedelta(days=30)  # promise.max_days_out: the bot's counter day
DEC_10 = date(2026, 12, 10)


def verified() -> Transcript:
    t = Transcript(make_facts())
    t.verify()
    return t


def countered() -> Transcript:
    """The debtor offered $200 on Feb 15; the bot countered with $200 by the latest day."""
    t = verified()
    out = t.says("i can pay 200 on feb 15", "promise_to_pay", amount="200.00", date="2027-02-15")
    assert keys(out) == ["promise.counter"]
    assert out.said[0].reply.slots["offer"].first_due == LATEST
    return t


def test_another_amount_refusing_the_bots_day_asks_which_day() -> None:
    t = countered()
    out = t.says("no. i can do 100 on my next payday", "promise_to_pay", amount="100.00")
    assert keys(out) == ["promise.ask_date"] and out.effects == []
    assert t.state.offer is None  # nothing on the table a "yes" could record
    assert "December 25" not in " ".join(texts(out, t.facts))  # type: ignore[arg-type]
    confirm = t.says("december 10", "out_of_scope", date=DEC_10.isoformat())
    assert keys(confirm) == ["promise.confirm"]
    offer = confirm.said[0].reply.slots["offer"]
    assert (offer.total, offer.first_due) == (Decimal("100.00"), DEC_10)
    assert t.says("yes", "affirm").effects == [RecordPromise(Decimal("100.00"), DEC_10, "promise")]


def test_an_amount_after_no_to_the_bots_day_asks_which_day() -> None:
    t = countered()
    assert keys(t.says("no", "deny")) == ["negotiate.ask.promise"]
    out = t.says("100", "out_of_scope", amount="100.00")
    assert keys(out) == ["promise.ask_date"] and out.effects == []


def test_the_debtors_own_day_is_still_kept_when_only_the_amount_was_countered() -> None:
    t = verified()
    out = t.says(
        "i'll pay 1500 on december 10", "promise_to_pay", amount="1500.00", date=DEC_10.isoformat()
    )
    assert keys(out) == ["promise.counter"]  # the amount cut to the balance, the day theirs
    again = t.says("how about 1000", "counter_offer", amount="1000.00")
    assert keys(again) == ["promise.confirm"]
    offer = again.said[0].reply.slots["offer"]
    assert (offer.total, offer.first_due) == (Decimal("1000.00"), DEC_10)


def test_the_debtors_own_amount_is_kept_when_only_the_day_was_countered() -> None:
    t = countered()
    out = t.says("what about december 10", "counter_offer", date=DEC_10.isoformat())
    assert keys(out) == ["promise.confirm"]
    offer = out.said[0].reply.slots["offer"]
    assert (offer.total, offer.first_due) == (Decimal("200.00"), DEC_10)


def test_the_bots_day_for_more_time_is_not_carried_into_a_promise() -> None:
    t = verified()
    out = t.says("i need more time", "request_extension")
    assert keys(out) == ["extension.counter"]  # the balance by the day the bot chose
    answer = t.says("i can pay 600", "promise_to_pay", amount="600.00")
    assert keys(answer) == ["promise.ask_date"] and answer.effects == []
