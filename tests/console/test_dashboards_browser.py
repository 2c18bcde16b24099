"""The dashboards in a real browser: a supervisor logs in, reads the hand-computed figures,
filters by dates and portfolio, downloads a CSV, and the screenshots for the README are made."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from backend.console import users
from backend.console_wiring import install_console
from backend.container import Container
from backend.db.models.enums import Role
from backend.reports_wiring import install_reports
from backend.settings import Settings
from bot.clock import SettableClock
from tests.console.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    ServedApp,
    free_port,
    require_chromium,
)
from tests.reports.dataset import Seeded, seed

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "rita@example.com", "correct horse battery staple"
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # the dataset's "today"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedApp]:
    """The app over a temporary SQLite file on a free loopback port."""
    require_chromium()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        parley_env="test", database_url=f"sqlite+aiosqlite:///{tmp_path / 'dash.db'}",
        redis_url=None, nlu_model_dir=tmp_path / "models",
    )
    app = ServedApp(settings, SettableClock(NOW), free_port(),
                    extensions=(install_console, install_reports))
    app.start()
    try:
        yield app
    finally:
        app.stop()


async def _seed(container: Container) -> Seeded:
    async with container.sessions.begin() as session:
        await users.create_agent(session, email=EMAIL, name="Rita Chen", role=Role.SUPERVISOR,
                                 password=PASSWORD, now=NOW)
        return await seed(session)


def _tile(page: Any, column: str) -> Any:
    return page.locator(f'#table-totals [data-column="{column}"] dd, '
                        f'#table-summary [data-column="{column}"] dd').first


def _cells(page: Any, table: str) -> list[list[str]]:
    rows = page.locator(f"#table-{table} tbody tr")
    return [[c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
            for i in range(rows.count())]


def _charts_drawn(page: Any) -> bool:
    return bool(page.evaluate(
        "[...document.querySelectorAll('.chart img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"))


def test_a_supervisor_reads_filters_and_exports_the_dashboards(served: ServedApp) -> None:
    from playwright.sync_api import expect, sync_playwright

    container: Container = served.app.state.container
    served.call(_seed(container))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900},
                                    accept_downloads=True)
            page.set_default_timeout(15_000)
            page.goto(f"{served.url}/console/reports")
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page).to_have_url(f"{served.url}/console/reports/recovery")
            expect(page.get_by_role("heading", name="Recovery", exact=True)).to_be_visible()
            # The last 30 days until today.
            expect(page.get_by_label("From", exact=True)).to_have_value("2026-10-27")
            expect(page.get_by_label("To", exact=True)).to_have_value("2026-11-25")

            # November, all portfolios: the figures of tests/reports/test_api.py.
            page.get_by_label("From", exact=True).fill("2026-11-01")
            page.get_by_label("To", exact=True).fill("2026-11-30")
            page.get_by_role("button", name="Apply").click()
            expect(_tile(page, "placed")).to_have_text("3,800.00")
            expect(_tile(page, "collected")).to_have_text("950.00")
            expect(_tile(page, "recovery_rate")).to_have_text("25.0 %")
            assert _cells(page, "by_creditor") == [
                ["Acme Bank", "3", "3,500.00", "900.00", "25.7 %"],
                ["Beta Telco", "1", "300.00", "50.00", "16.7 %"],
            ]
            assert _charts_drawn(page)
            page.screenshot(path=str(SCREENSHOTS / "dashboard-recovery.png"), full_page=True)

            # One portfolio: only a4 was placed in Mobile in November.
            page.locator('select[name="portfolio"]').select_option(label="Beta Telco / Mobile")
            page.get_by_role("button", name="Apply").click()
            expect(_tile(page, "accounts")).to_have_text("1")
            expect(_tile(page, "placed")).to_have_text("300.00")
            expect(_tile(page, "recovery_rate")).to_have_text("16.7 %")

            with page.expect_download() as info:
                page.locator("#table-by_portfolio a.csv").click()
            download = info.value
            assert download.suggested_filename == "recovery-by_portfolio.csv"
            exported = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
            assert [(r["label"], r["placed"], r["collected"], r["recovery_rate"])
                    for r in exported] == [("Beta Telco / Mobile", "300.00", "50.00", "0.1667")]

            # The tabs keep the filters; back to all portfolios for the other pages.
            page.locator('select[name="portfolio"]').select_option(label="All portfolios")
            page.get_by_role("button", name="Apply").click()
            page.get_by_role("link", name="Strategy", exact=True).click()
            expect(page).to_have_url(
                f"{served.url}/console/reports/strategy?start=2026-11-01&end=2026-11-30"
                "&portfolio=")
            expect(_tile(page, "sent")).to_have_text("5")
            expect(_tile(page, "collected")).to_have_text("650.00")
            assert [r[1:] for r in _cells(page, "steps")][:2] == [
                ["d+1", "helpful", "1", "1", "1", "0", "1", "200.00", "100.0 %", "100.0 %",
                 "0.0 %", "100.0 %", "200.00"],
                ["d+1", "plain", "2", "2", "1", "2", "1", "50.00", "100.0 %", "50.0 %",
                 "100.0 %", "50.0 %", "25.00"],
            ]
            assert _charts_drawn(page)
            page.screenshot(path=str(SCREENSHOTS / "dashboard-strategy.png"), full_page=True)

            page.get_by_role("link", name="Outcomes", exact=True).click()
            rates = {r[0]: r[3] for r in _cells(page, "rates")}
            # 3 of the 4 conversations about an account (an unknown sender counts for none).
            assert rates["right_party_contact"] == "75.0 %"
            assert rates["promise_kept"] == "50.0 %"
            page.screenshot(path=str(SCREENSHOTS / "dashboard-outcomes.png"), full_page=True)

            page.get_by_role("link", name="Automation", exact=True).click()
            handoffs = {r[0]: r[6] for r in _cells(page, "handoffs")}
            assert handoffs == {"complaints": "1", "hardship": "1", "unmatched": "0"}
            page.screenshot(path=str(SCREENSHOTS / "dashboard-automation.png"), full_page=True)

            page.get_by_role("link", name="NLU health", exact=True).click()
            expect(_tile(page, "messages")).to_have_text("6")
            page.screenshot(path=str(SCREENSHOTS / "dashboard-nlu.png"), full_page=True)

            page.set_viewport_size({"width": 390, "height": 844})
            page.get_by_role("link", name="Recovery", exact=True).click()
            expect(_tile(page, "placed")).to_have_text("3,800.00")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, "the dashboard must fit a phone's width"
            page.screenshot(path=str(SCREENSHOTS / "dashboard-recovery-phone.png"),
                            full_page=False)
        finally:
            browser.close()
