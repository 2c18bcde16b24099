"""A failed refund never counts, whichever of its events arrives first or arrives again."""

from __future__ import annotations

from decimal import Decimal
from itertools import permutations

import httpx
import pytest

from backend.container import Container
from tests.backend.test_payment_fixes_refund_rules import _paid, _refund_failed, _refunded
from tests.backend.test_payment_fixes_refunds import _standing
from tests.backend.test_payment_fixes_stripe_dupes import _deliver
from tests.backend.test_payment_fixes_stripe_dupes import served as served  # noqa: F401

D = Decimal
Served = tuple[Container, httpx.AsyncClient, str]
# The account owes 300.00 and pays 100.00; a refund of all of it fails.
EVENTS = {"refunded": _refunded(10000, paid=10000), "failed": _refund_failed(10000, "re_3z")}


@pytest.mark.parametrize("order", [
    ("failed", "refunded"),
    ("refunded", "failed", "refunded"),
    ("failed", "refunded", "refunded", "failed"),
    ("refunded", "refunded", "failed", "refunded"),
], ids="-".join)
async def test_a_failed_refund_leaves_the_balance_as_paid(
    served: Served, order: tuple[str, ...],
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    await _deliver(client, *_paid(account_id, 10000))
    for name in order:
        await _deliver(client, *EVENTS[name])
    assert await _standing(container, account_id) == ("active", D("200.00"), D("0.00"))


@pytest.mark.parametrize("order", list(permutations(["partial", "whole", "failed"])),
                         ids="-".join)
async def test_a_refund_that_stood_is_reversed_whatever_the_order(
    served: Served, order: tuple[str, ...],
) -> None:
    # re_a gives back 40.00 and stands; re_b gives back 60.00 more and fails.
    container, client, url = served
    account_id = int(url.split("/")[3])
    events = {"partial": _refunded(4000, paid=10000), "whole": _refunded(10000, paid=10000),
              "failed": _refund_failed(6000, "re_b")}
    await _deliver(client, *_paid(account_id, 10000))
    for name in order:
        await _deliver(client, *events[name])
    assert await _standing(container, account_id) == ("active", D("240.00"), D("40.00"))
