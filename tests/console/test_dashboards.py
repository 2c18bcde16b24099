"""The dashboards pages over HTTP: figures of the hand-computed dataset, filters, CSV, charts."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import httpx
import pytest

from backend.container import Container
from backend.db.models.enums import Role
from backend.reports.csv import table_to_csv
from backend.reports.filters import ReportFilter
from backend.reports.strategy import strategy_report
from backend.reports.tables import tables_of
from tests.console.conftest import LoggedIn
from tests.reports.dataset import Seeded, add_euro_account, seed

NOVEMBER = {"start": "2026-11-01", "end": "2026-11-30"}
PAGES = ["recovery", "outcomes", "automation", "strategy", "nlu"]


@pytest.fixture
async def seeded(console: Container) -> Seeded:
    """The reports' dataset in the console's database."""
    async with console.sessions.begin() as session:
        return await seed(session)


@pytest.fixture
async def supervisor(logged_in: LoggedIn, seeded: Seeded) -> httpx.AsyncClient:
    """A supervisor's session over the seeded data."""
    client, _, _ = await logged_in(Role.SUPERVISOR)
    return client


def tile(html: str, column: str) -> str:
    match = re.search(rf'data-column="{column}"><dt>[^<]*</dt><dd>([^<]*)</dd>', html)
    assert match, f"no tile {column}"
    return match.group(1)


def rows(html: str, table: str) -> list[list[str]]:
    section = html.split(f'id="table-{table}"', 1)[1].split("</section>", 1)[0]
    return [re.findall(r"<td[^>]*>([^<]*)</td>", tr) for tr in section.split("<tr>")[2:]]


async def test_recovery_shows_the_hand_computed_figures(supervisor: httpx.AsyncClient) -> None:
    html = (await supervisor.get("/console/reports/recovery", params=NOVEMBER)).text
    assert [tile(html, c) for c in ("accounts", "placed", "collected", "recovery_rate")] == [
        "4", "3,800.00", "950.00", "25.0 %"
    ]
    assert rows(html, "by_creditor") == [
        ["Acme Bank", "3", "3,500.00", "900.00", "25.7 %"],
        ["Beta Telco", "1", "300.00", "50.00", "16.7 %"],
    ]
    assert html.count('<img src="data:image/svg+xml;base64,') == 5
    assert "https://" not in html and "http://" not in html


async def test_the_default_range_is_the_last_30_days(supervisor: httpx.AsyncClient) -> None:
    response = await supervisor.get("/console/reports")
    assert response.status_code == 303
    html = (await supervisor.get(response.headers["location"])).text
    assert 'name="start" value="2026-10-27"' in html and 'name="end" value="2026-11-25"' in html


async def test_a_portfolio_filter_and_its_csv_link(
    supervisor: httpx.AsyncClient, seeded: Seeded
) -> None:
    params = {"start": "", "end": "", "portfolio": str(seeded.mobile)}
    html = (await supervisor.get("/console/reports/strategy", params=params)).text
    assert rows(html, "steps") == [
        ["default", "d+1", "helpful", "1", "0", "1", "1", "1", "9.99", "0.0 %", "100.0 %",
         "100.0 %", "100.0 %", "9.99"],
        ["default", "d+1", "plain", "1", "1", "0", "1", "1", "50.00", "100.0 %", "0.0 %",
         "100.0 %", "100.0 %", "50.00"],
    ]
    link = re.search(r'href="(/console/reports/strategy\.csv\?table=steps[^"]*)"', html)
    assert link is not None
    body = (await supervisor.get(link.group(1).replace("&amp;", "&"))).text
    exported = list(csv.DictReader(io.StringIO(body)))
    assert [(r["variant"], r["collected"]) for r in exported] == [("helpful", "9.99"),
                                                                   ("plain", "50.00")]


async def test_the_csv_is_the_apis_csv(
    supervisor: httpx.AsyncClient, console: Container
) -> None:
    response = await supervisor.get("/console/reports/strategy.csv",
                                    params={**NOVEMBER, "window": "1", "table": "totals"})
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="strategy-totals.csv"' in response.headers["content-disposition"]
    async with console.sessions() as session:
        flt = ReportFilter(start=date(2026, 11, 1), end=date(2026, 11, 30))
        report = await strategy_report(session, flt, window_days=1)
    assert response.text == table_to_csv(tables_of(report)["totals"])


@pytest.mark.parametrize("page", PAGES)
async def test_every_table_has_a_working_csv_link(
    supervisor: httpx.AsyncClient, page: str
) -> None:
    html = (await supervisor.get(f"/console/reports/{page}", params=NOVEMBER)).text
    links = re.findall(r'href="(/console/reports/[a-z]+\.csv\?[^"]+)"', html)
    sections = re.findall(r'<section class="card[^"]*" id="table-', html)
    assert links and len(links) == len(sections)
    for link in links:
        response = await supervisor.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
        assert response.text.count("\r\n") >= 1


async def test_mistyped_filters_are_reported_not_fatal(supervisor: httpx.AsyncClient) -> None:
    response = await supervisor.get("/console/reports/outcomes",
                                    params={"start": "2026-11-30", "end": "2026-11-01",
                                            "portfolio": "x"})
    assert response.status_code == 200
    assert "the end is before the start" in response.text
    bad = await supervisor.get("/console/reports/nlu", params={"start": "yesterday"})
    assert "is not a date" in bad.text


async def test_agents_may_not_see_the_dashboards(logged_in: LoggedIn, seeded: Seeded) -> None:
    client, _, _ = await logged_in(Role.AGENT)
    for path in ("/console/reports/recovery", "/console/reports/recovery.csv"):
        assert (await client.get(path)).status_code == 403


async def test_mixed_currencies_are_flagged_and_one_can_be_chosen(
    supervisor: httpx.AsyncClient, console: Container, seeded: Seeded
) -> None:
    async with console.sessions.begin() as session:
        await add_euro_account(session, seeded)
    mixed = (await supervisor.get("/console/reports/recovery", params=NOVEMBER)).text
    assert "These accounts are in EUR, USD" in mixed
    assert '<option value="EUR">EUR</option>' in mixed
    dollars = (await supervisor.get("/console/reports/recovery",
                                    params={**NOVEMBER, "currency": "USD"})).text
    assert "These accounts are in" not in dollars
    assert [tile(dollars, c) for c in ("accounts", "placed")] == ["4", "3,800.00"]
    assert "currency=USD" in dollars  # the CSV links keep the choice
