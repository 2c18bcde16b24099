"""A bound key cannot reach another creditor's rows by spelling the id another way: " 2",
"2.0", "+2", "2_0" are refused for every key, as the creditor check reads the raw path."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from backend.db.models import Account, Payment
from tests.backend.test_apikey_creditor_binding import Agency, agency  # noqa: F401

SPELLINGS = [" {}", "{} ", "{}.0", "+{}", "0{}", "{}_0", "\t{}"]


@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_another_spelling_of_another_creditors_id_is_refused(
    agency: Agency, spelling: str,  # noqa: F811
) -> None:
    beta, client = agency.beta_account["id"], agency.client
    raw = quote(spelling.format(beta), safe="")
    portfolio = quote(spelling.format(agency.beta_account["portfolio_id"]), safe="")
    answers = [
        await client.get(f"/api/accounts/{raw}", headers=agency.acme),
        await client.post(f"/api/accounts/{raw}/payments", headers=agency.acme,
                          json={"amount": "1.00", "reference": "IDOR-1"}),
        await client.post(f"/api/accounts/{raw}/remind", headers=agency.acme),
        await client.get(f"/api/portfolios/{portfolio}/policy", headers=agency.acme),
    ]
    assert [a.status_code for a in answers] == [422] * 4, [a.text for a in answers]
    assert "digits" in answers[0].text
    async with agency.container.sessions() as session:
        assert await session.scalar(select(func.count(Payment.id))) == 0
        account = await session.get(Account, beta)
        assert account is not None and account.current_balance == Decimal("120.00")


async def test_an_agency_wide_key_gets_the_same_refusal(agency: Agency) -> None:  # noqa: F811
    beta = agency.beta_account["id"]
    odd = await agency.client.get(f"/api/accounts/{beta}.0", headers=agency.agency)
    plain = await agency.client.get(f"/api/accounts/{beta}", headers=agency.agency)
    assert (odd.status_code, plain.status_code) == (422, 200)
