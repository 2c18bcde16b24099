"""A bad portfolio is reported like a bad date; amounts in their currency's minor units."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal as D
from html import unescape

import httpx
import pytest
from fastapi import FastAPI

from backend.api.app import create_app
from backend.console import users
from backend.console_wiring import install_console
from backend.container import Container
from backend.db.models import Portfolio
from backend.db.models.enums import Role
from backend.reports.charts import bar_chart
from backend.reports.money import display_currency, has_money, in_minor_units
from backend.reports.nlu_health import NluHealthReport
from backend.reports.recovery import AgingRow, RecoveryReport, RecoveryRow
from backend.reports.view import cell, read_filter
from backend.reports_wiring import install_reports
from backend.settings import Settings
from bot.clock import SettableClock
from tests.console.conftest import PASSWORD, login
from tests.reports.dataset import CREATED, Builder, Seeded, add_euro_account, at

TODAY = date(2026, 11, 25)
NOVEMBER = {"start": "2026-11-01", "end": "2026-11-30"}
MIXED_WARNING = "money figures below add up unlike amounts"


@pytest.fixture
def app(settings: Settings, clock: SettableClock) -> FastAPI:
    """The console and the reports API in one app, as `parley serve` mounts them."""
    return create_app(settings, clock=clock, migrate=False,
                      extensions=(install_console, install_reports))


@pytest.fixture
async def supervisor(app: FastAPI, client: httpx.AsyncClient,
                     auth: dict[str, str], seeded: Seeded) -> AsyncIterator[httpx.AsyncClient]:
    """One client: a supervisor's console session, and the API key in `auth`."""
    container: Container = app.state.container
    async with container.sessions.begin() as session:
        await users.create_agent(session, email="sup@example.com", name="Sup",
                                 role=Role.SUPERVISOR, password=PASSWORD,
                                 now=container.clock.now(), queues=())
    await login(client, "sup@example.com")
    yield client


def tile(html: str, column: str) -> str:
    match = re.search(rf'data-column="{column}"><dt>[^<]*</dt><dd>([^<]*)</dd>', html)
    assert match, f"no tile {column}"
    return match.group(1)


def notices(html: str) -> list[str]:
    found = re.findall(r'<p class="notice notice-warn" role="status">([^<]*)</p>', html)
    return [unescape(n) for n in found]


# A bad portfolio filter


def test_a_portfolio_that_is_not_an_id_is_reported_and_ignored() -> None:
    for typed in ("abc", "²", "-1", "1.5"):
        form = read_filter("", "", typed, TODAY)
        assert form.filter.portfolio_id is None and form.portfolio == ""
        assert form.errors == [f"portfolio {typed!r} is not a portfolio id; showing all "
                               "portfolios"]


async def test_the_page_says_a_bad_or_unknown_portfolio_is_ignored(
    supervisor: httpx.AsyncClient,
) -> None:
    everything = (await supervisor.get("/console/reports/recovery", params=NOVEMBER)).text
    for typed, message in (("abc", "portfolio 'abc' is not a portfolio id"),
                           ("999999", "there is no portfolio 999999"),
                           ("99999999999999999999999", "there is no portfolio")):
        response = await supervisor.get("/console/reports/recovery",
                                        params={**NOVEMBER, "portfolio": typed})
        assert response.status_code == 200
        assert any(message in n and "showing all portfolios" in n
                   for n in notices(response.text)), typed
        assert tile(response.text, "placed") == tile(everything, "placed") == "3,800.00"
        exported = await supervisor.get("/console/reports/recovery.csv",
                                        params={**NOVEMBER, "portfolio": typed})
        assert exported.status_code == 200
        assert exported.text == (await supervisor.get(
            "/console/reports/recovery.csv", params=NOVEMBER)).text


async def test_a_mistyped_window_is_not_an_error_page(supervisor: httpx.AsyncClient) -> None:
    response = await supervisor.get("/console/reports/strategy",
                                    params={**NOVEMBER, "window": "²"})
    assert response.status_code == 200


async def test_the_api_refuses_an_unknown_portfolio_as_it_refuses_a_bad_date(
    supervisor: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded,
) -> None:
    for path in ("/api/reports/recovery", "/api/reports/outcomes"):
        for unknown in ("999999", "0", "99999999999999999999999"):
            response = await supervisor.get(path, headers=auth,
                                            params={"portfolio_id": unknown})
            assert response.status_code == 422
            assert f"unknown portfolio_id {unknown}" in response.text
        known = await supervisor.get(path, headers=auth, params={"portfolio_id": seeded.cards})
        assert known.status_code == 200


# The mixed-currency warning only where there is money


def test_only_reports_with_amounts_have_money() -> None:
    assert has_money(RecoveryReport) and not has_money(NluHealthReport)


async def test_the_mixed_currency_warning_is_only_on_pages_with_money(
    supervisor: httpx.AsyncClient, app: FastAPI, seeded: Seeded,
) -> None:
    async with app.state.container.sessions.begin() as session:
        await add_euro_account(session, seeded)
    warned = {page: MIXED_WARNING in (await supervisor.get(
        f"/console/reports/{page}", params=NOVEMBER)).text
        for page in ("recovery", "outcomes", "automation", "strategy", "nlu")}
    assert warned == {"recovery": True, "outcomes": True, "automation": False,
                      "strategy": True, "nlu": False}


# Amounts in their currency's minor units


async def add_yen_portfolio(container: Container, seeded: Seeded) -> int:
    """A portfolio holding one JPY account: 150,000 placed in November, 50,000 paid."""
    async with container.sessions.begin() as session:
        b = Builder(session)
        b.n = 400
        yen = await b.add(Portfolio(creditor_id=seeded.acme, name="Yen", created_at=CREATED))
        account = await b.account(yen, "150000", "100000", date(2026, 10, 1), at(11, 10))
        account.currency = "JPY"
        await b.payment(account, "50000", at(11, 12), "card", "sms")
        return yen.id


def test_amounts_take_the_currency_minor_units() -> None:
    assert cell(D("150000.00"), "placed", "JPY").text == "150,000"
    assert cell(D("1234.5"), "placed", "USD").text == "1,234.50"
    assert cell(D("1.5"), "amount", "BHD").text == "1.500"
    assert cell(D("0.2571"), "recovery_rate", "JPY").text == "25.7 %"
    assert display_currency(None, ["JPY"]) == "JPY"
    assert display_currency(None, ["JPY", "USD"]) == "USD"  # no cents are cut off a sum
    assert display_currency("JPY", ["JPY", "USD"]) == "JPY"
    report = RecoveryReport([RecoveryRow("all", "all", 1, D("150000.00"), D("50000.00"),
                                         D("0.3333"))], [], [], [], [],
                            [AgingRow("current", 1, D("100000.00"), D("1.0000"))], [], [])
    yen = in_minor_units(report, "JPY")
    assert (str(yen.totals[0].placed), str(yen.totals[0].recovery_rate),
            str(yen.aging[0].open_balance), str(yen.aging[0].share)) == (
        "150000", "0.3333", "100000", "1.0000")
    assert "100,000" in bar_chart("aging", ["current"], [yen.aging[0].open_balance])
    assert "100,000.00" not in bar_chart("aging", ["current"], [yen.aging[0].open_balance])


async def test_yen_shows_no_decimals_on_the_page_and_in_the_api(
    supervisor: httpx.AsyncClient, auth: dict[str, str], app: FastAPI, seeded: Seeded,
) -> None:
    yen = await add_yen_portfolio(app.state.container, seeded)
    for params in ({**NOVEMBER, "currency": "JPY"}, {**NOVEMBER, "portfolio": str(yen)}):
        html = (await supervisor.get("/console/reports/recovery", params=params)).text
        assert (tile(html, "placed"), tile(html, "collected")) == ("150,000", "50,000")
    body = (await supervisor.get("/api/reports/recovery", headers=auth,
                                 params={**NOVEMBER, "currency": "JPY"})).json()
    assert (body["totals"][0]["placed"], body["totals"][0]["collected"]) == ("150000", "50000")
    exported = await supervisor.get("/api/reports/recovery", headers=auth, params={
        **NOVEMBER, "portfolio_id": yen, "format": "csv", "table": "totals"})
    [row] = list(csv.DictReader(io.StringIO(exported.text)))
    assert (row["placed"], row["collected"], row["recovery_rate"]) == ("150000", "50000",
                                                                      "0.3333")
    usd = (await supervisor.get("/api/reports/recovery", headers=auth,
                                params={**NOVEMBER, "currency": "USD"})).json()
    assert usd["totals"][0]["placed"] == "3800.00"
