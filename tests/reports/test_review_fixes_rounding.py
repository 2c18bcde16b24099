"""Rates are rounded once, from their exact value: the table, the chart and the exports agree."""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import AsyncIterator
from decimal import Decimal as D

import httpx
import pytest
from fastapi import FastAPI

from backend.api.app import create_app
from backend.console import users
from backend.console_wiring import install_console
from backend.container import Container
from backend.db.models import Creditor, Portfolio
from backend.db.models.enums import Role
from backend.reports.charts import bar_chart
from backend.reports.recovery import RecoveryReport, RecoveryRow
from backend.reports.snapshots import decode, encode
from backend.reports.sql import ratio
from backend.reports.view import cell
from backend.reports_wiring import install_reports
from backend.settings import Settings
from bot.clock import SettableClock
from tests.console.conftest import PASSWORD, login
from tests.reports.dataset import CREATED, Builder, at

LIVE = {"start": "2026-11-01", "end": "2026-11-30", "portfolio": ""}
ALL_TIME = {"start": "", "end": "", "portfolio": ""}
# (numerator, denominator, the exact rate rounded once): each 4-place ratio (0.0115, 0.0165)
# rounds to the other tenth of a percent, half-even or as a float.
CASES = [
    (D("1290.98"), D("112365.96"), "1.1 %"),  # 1.1489 %
    (D("4869.74"), D("294282.84"), "1.7 %"),  # 1.6548 %
    (1, 87, "1.1 %"),  # 1.1494 %: a right-party contact, containment or opt-out count
    (2, 121, "1.7 %"),  # 1.6529 %
    (23, 2000, "1.2 %"),  # exactly 1.15 %: half up
    (33, 2000, "1.7 %"),  # exactly 1.65 %
]
RATE_COLUMNS = ["recovery_rate", "share", "rate", "containment_rate", "within_target_rate",
                "low_confidence_rate", "corrected_rate", "reply_rate", "pay_rate"]
PERCENT = re.compile(r"-?\d+\.\d %")


def chart_labels(svg: str) -> list[str]:
    return PERCENT.findall(svg)


@pytest.mark.parametrize(("numerator", "denominator", "shown"), CASES)
def test_every_rate_shows_the_same_once_rounded_figure_in_table_and_chart(
    numerator: object, denominator: object, shown: str
) -> None:
    rate = ratio(numerator, denominator)
    assert rate is not None
    assert chart_labels(bar_chart("Rates", ["x"], [rate], percent=True)) == [shown]
    assert {column: cell(rate, column).text for column in RATE_COLUMNS} == dict.fromkeys(
        RATE_COLUMNS, shown)


@pytest.mark.parametrize(("numerator", "denominator", "shown"), CASES)
def test_the_exported_ratio_is_the_exact_value_to_4_places(
    numerator: object, denominator: object, shown: str
) -> None:
    rate = ratio(numerator, denominator)
    exact = D(str(numerator)) / D(str(denominator))
    assert rate == exact.quantize(D("0.0001"))
    assert str(rate) == str(exact.quantize(D("0.0001")))  # the API and CSV text


@pytest.fixture
def app(settings: Settings, clock: SettableClock) -> FastAPI:
    """The console and the reports API in one app, as `parley serve` mounts them."""
    return create_app(settings, clock=clock, migrate=False,
                      extensions=(install_console, install_reports))


@pytest.fixture
async def supervisor(app: FastAPI, client: httpx.AsyncClient,
                     auth: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """One client: a supervisor's console session, and the API key in `auth`."""
    container: Container = app.state.container
    async with container.sessions.begin() as session:
        await users.create_agent(session, email="sup@example.com", name="Sup",
                                 role=Role.SUPERVISOR, password=PASSWORD,
                                 now=container.clock.now(), queues=())
    await login(client, "sup@example.com")
    yield client


async def seed_reviewed_portfolios(container: Container) -> None:
    """The two demo portfolios whose rates the reviewer saw disagree."""
    async with container.sessions.begin() as session:
        b = Builder(session)
        for creditor_name, name, placed, paid in (
            ("Acme Bank", "Personal loans", "112365.96", "1290.98"),
            ("Northwind Utilities", "Residential", "294282.84", "4869.74"),
        ):
            creditor = await b.add(Creditor(name=creditor_name, created_at=CREATED))
            portfolio = await b.add(Portfolio(creditor_id=creditor.id, name=name,
                                              created_at=CREATED))
            account = await b.account(portfolio, placed, placed, at(11, 1).date(), at(11, 2))
            await b.payment(account, paid, at(11, 5), "card", "sms")


def page_rates(html: str) -> tuple[list[str], list[str]]:
    """The by-portfolio table's rate column and the recovery-by-portfolio chart's labels."""
    section = html.split('id="table-by_portfolio"', 1)[1].split("</section>", 1)[0]
    table = re.findall(r'<td data-column="recovery_rate"[^>]*>([^<]*)</td>', section)
    uri = re.search(r'data-chart="recovery_by_portfolio"><img src="data:image/svg\+xml;base64,'
                    r'([^"]+)"', html)
    assert uri, "no recovery-by-portfolio chart"
    return table, chart_labels(base64.b64decode(uri.group(1)).decode())


async def run_refresh_job(app: FastAPI) -> None:
    container: Container = app.state.container
    [job] = [j for j in container.scheduler.jobs if j.name == "reports.snapshots"]
    await job.func(container.clock.now())


@pytest.mark.parametrize("params", [LIVE, ALL_TIME], ids=["live", "snapshot"])
async def test_the_recovery_page_table_and_chart_agree_with_the_exports(
    app: FastAPI, supervisor: httpx.AsyncClient, auth: dict[str, str], params: dict[str, str]
) -> None:
    await seed_reviewed_portfolios(app.state.container)
    await run_refresh_job(app)  # all time is then read back from the stored snapshot
    page = await supervisor.get("/console/reports/recovery", params=params)
    assert page.status_code == 200
    assert ("All-time figures as of" in page.text) == (params is ALL_TIME)
    assert page_rates(page.text) == (["1.1 %", "1.7 %"], ["1.1 %", "1.7 %"])

    api = await supervisor.get("/api/reports/recovery", headers=auth,
                               params={k: v for k, v in params.items() if v})  # no '' dates
    assert [r["recovery_rate"] for r in api.json()["by_portfolio"]] == ["0.0115", "0.0165"]
    exported = await supervisor.get("/console/reports/recovery.csv", params=params)
    assert [r["recovery_rate"] for r in csv.DictReader(io.StringIO(exported.text))] == [
        "0.0115", "0.0165"]


def test_a_snapshot_keeps_the_exact_rate() -> None:
    row = RecoveryRow("1", "Acme Bank / Personal loans", 1, D("112365.96"), D("1290.98"),
                      ratio(D("1290.98"), D("112365.96")))
    report = RecoveryReport([row], [row], [], [], [], [], [], [])
    again = decode(RecoveryReport, encode(report))
    assert again == report
    assert cell(again.by_portfolio[0].recovery_rate, "recovery_rate").text == "1.1 %"
