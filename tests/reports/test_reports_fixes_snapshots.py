"""All-time figures: the page, its CSV and the API's CSV read one source and say its time."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from backend.api.app import create_app
from backend.console import users
from backend.console_wiring import install_console
from backend.container import Container
from backend.db.models import Account, ReportSnapshot
from backend.db.models.enums import Role
from backend.reports.catalog import DASHBOARDS
from backend.reports.snapshots import ALL_TIME
from backend.reports_wiring import install_reports, page_options
from backend.services import apikeys
from backend.settings import Settings
from bot.clock import SettableClock
from tests.console.conftest import PASSWORD, login
from tests.reports.dataset import Builder, Seeded, at

ALL = {"start": "", "end": "", "portfolio": ""}
T0 = at(11, 25, 15)


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


async def run_refresh_job(app: FastAPI) -> None:
    container: Container = app.state.container
    [job] = [j for j in container.scheduler.jobs if j.name == "reports.snapshots"]
    await job.func(container.clock.now())


async def verify_one_more(container: Container, n: int) -> None:
    """A new conversation whose person passes identity verification: a right-party contact."""
    async with container.sessions.begin() as session:
        b = Builder(session)
        b.n = 300 + n
        account = await session.scalar(select(Account).order_by(Account.id).limit(1))
        assert account is not None
        conv = await b.conversation("sms", account, at(11, 25, 14))
        await b.inbound(conv, at(11, 25, 14, 1), "ask_balance", 0.9)
        await b.identity(conv, at(11, 25, 14, 1))


def page_rate(html: str) -> tuple[str, str]:
    section = html.split('id="table-rates"', 1)[1].split("</section>", 1)[0]
    for tr in section.split("<tr>")[2:]:
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", tr)
        if cells[0] == "right_party_contact":
            return cells[1], cells[2]
    raise AssertionError("no right_party_contact row")


def csv_rate(text: str) -> tuple[str, str]:
    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO(text))}
    return rows["right_party_contact"]["numerator"], rows["right_party_contact"]["denominator"]


async def three_views(client: httpx.AsyncClient, auth: dict[str, str]
                      ) -> tuple[str, httpx.Response, httpx.Response]:
    """The all-time outcomes page, its console CSV and the API's CSV for the same filter."""
    page = (await client.get("/console/reports/outcomes", params=ALL)).text
    console_csv = await client.get("/console/reports/outcomes.csv",
                                   params={**ALL, "table": "rates"})
    api_csv = await client.get("/api/reports/outcomes", headers=auth,
                               params={"format": "csv", "table": "rates"})
    assert console_csv.status_code == api_csv.status_code == 200
    return page, console_csv, api_csv


def assert_agree_as_of(views: tuple[str, httpx.Response, httpx.Response],
                       when: str, source: str) -> tuple[str, str]:
    page, console_csv, api_csv = views
    assert console_csv.text == api_csv.text
    assert page_rate(page) == csv_rate(api_csv.text)
    assert f'<time datetime="{when}">' in page
    for response in (console_csv, api_csv):
        assert response.headers["x-report-as-of"] == when
        assert response.headers["x-report-source"] == source
        assert response.headers["last-modified"]
    return csv_rate(api_csv.text)


async def test_a_figure_changes_and_page_and_both_csvs_agree_and_say_when(
    app: FastAPI, supervisor: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded,
    clock: SettableClock,
) -> None:
    await run_refresh_job(app)
    before = assert_agree_as_of(await three_views(supervisor, auth),
                                T0.isoformat(), "snapshot")
    page = (await supervisor.get("/console/reports/outcomes", params=ALL)).text
    assert "All-time figures as of" in page and "refreshed every 15 minutes" in page

    await verify_one_more(app.state.container, 1)
    # Within the refresh interval all three still show the snapshot, and say so.
    clock.advance(timedelta(minutes=10))
    assert assert_agree_as_of(await three_views(supervisor, auth),
                              T0.isoformat(), "snapshot") == before

    # Past it (the job is late or stopped) the first reader refreshes the snapshot.
    clock.advance(timedelta(minutes=6))
    after = assert_agree_as_of(await three_views(supervisor, auth),
                               clock.now().isoformat(), "snapshot")
    assert (int(after[0]), int(after[1])) == (int(before[0]) + 1, int(before[1]) + 1)
    async with app.state.container.sessions() as session:
        computed = await session.scalar(select(ReportSnapshot.computed_at).where(
            ReportSnapshot.page == "outcomes"))
    assert computed == clock.now()


async def test_a_missing_snapshot_is_computed_not_shown_as_zeros(
    app: FastAPI, supervisor: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded,
) -> None:
    views = await three_views(supervisor, auth)
    numerator, denominator = assert_agree_as_of(views, T0.isoformat(), "snapshot")
    async with app.state.container.sessions() as session:
        live = await DASHBOARDS["outcomes"].live(session, ALL_TIME,
                                                 page_options(app.state.container, T0))
    [rpc] = [r for r in live.rates if r.metric == "right_party_contact"]
    assert (numerator, denominator) == (str(rpc.numerator), str(rpc.denominator)) != ("0", "0")


@pytest.fixture
def sandbox_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"parley_sandbox": True})


async def test_in_sandbox_mode_all_time_is_computed_now(
    sandbox_settings: Settings, clock: SettableClock, seeded: Seeded,
) -> None:
    # The sandbox clock stands still, so the start-up snapshot (made before any data) would
    # never look old: there all time is computed on every read.
    app = create_app(sandbox_settings, clock=clock, migrate=False,
                     extensions=(install_console, install_reports))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        await run_refresh_job(app)
        await verify_one_more(container, 2)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            async with container.sessions.begin() as session:
                await users.create_agent(session, email="sup@example.com", name="Sup",
                                         role=Role.SUPERVISOR, password=PASSWORD,
                                         now=clock.now(), queues=())
                _, raw = await apikeys.create_key(session, "test", clock.now())
            await login(client, "sup@example.com")
            views = await three_views(client, {"Authorization": f"Bearer {raw}"})
            got = assert_agree_as_of(views, T0.isoformat(), "live")
            async with container.sessions() as session:
                live = await DASHBOARDS["outcomes"].live(session, ALL_TIME,
                                                         page_options(container, T0))
    [rpc] = [r for r in live.rates if r.metric == "right_party_contact"]
    assert got == (str(rpc.numerator), str(rpc.denominator))
    assert "Figures computed at" in views[0]
