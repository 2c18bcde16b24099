"""Charts: inline SVG, self-contained (no external fetch), deterministic, figures as text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from backend.container import Container
from backend.reports.automation import automation_report
from backend.reports.charts import (
    automation_charts,
    bar_chart,
    line_chart,
    nlu_charts,
    outcomes_charts,
    recovery_charts,
    strategy_charts,
)
from backend.reports.filters import ReportFilter
from backend.reports.nlu_health import nlu_health_report
from backend.reports.outcomes import outcomes_report
from backend.reports.recovery import recovery_report
from backend.reports.strategy import strategy_report
from tests.reports.dataset import TODAY, Seeded


def assert_inline_svg(svg: str) -> None:
    assert svg.startswith("<svg ") and svg.rstrip().endswith("</svg>")
    ET.fromstring(svg)  # well-formed XML
    assert not re.search(r"(?:href|src)=\"(?:https?:)?//", svg)
    assert "@import" not in svg and "@font-face" not in svg


async def test_every_dashboard_chart_is_inline_svg(container: Container, seeded: Seeded) -> None:
    flt = ReportFilter()
    async with container.sessions() as s:
        charts = {
            **recovery_charts(await recovery_report(s, flt, TODAY)),
            **outcomes_charts(await outcomes_report(s, flt)),
            **automation_charts(await automation_report(s, flt)),
            **nlu_charts(await nlu_health_report(s, flt)),
            **strategy_charts(await strategy_report(s, flt)),
        }
    assert len(charts) == 14
    for svg in charts.values():
        assert_inline_svg(svg)
    assert "Acme Bank / Cards" in charts["recovery_by_portfolio"]
    assert "60.0 %" in charts["recovery_by_portfolio"]
    assert 'aria-label="Recovery rate by portfolio"' in charts["recovery_by_portfolio"]
    assert "d+1 / helpful" in charts["pay_rate"] and "100.0 %" in charts["pay_rate"]
    assert "400.00" in charts["collected"]


def test_charts_are_deterministic_and_handle_no_data() -> None:
    first = bar_chart("Rates", ["a", "b"], [0.5, None], percent=True)
    assert first == bar_chart("Rates", ["a", "b"], [0.5, None], percent=True)
    assert "50.0 %" in first
    for empty in (bar_chart("Nothing", [], []), line_chart("Nothing", [], {"x": []})):
        assert_inline_svg(empty)
        assert "no data" in empty
