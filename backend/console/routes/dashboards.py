"""The supervisors' dashboards: recovery, outcomes, automation, strategy and NLU health."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse

from backend.api.deps import ContainerDep
from backend.api.routes.reports import (
    as_of_headers,
    csv_response,
    default_options,
    report_figures,
)
from backend.console.deps import ConsoleRoute, Viewer, render, viewer_dep
from backend.console.permissions import Perm
from backend.container import Container
from backend.db.models import Creditor, Portfolio
from backend.reports.catalog import DASHBOARDS, Dashboard, Options
from backend.reports.money import display_currency
from backend.reports.refresh import REFRESH_EVERY
from backend.reports.source import Figures
from backend.reports.strategy import DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS
from backend.reports.tables import tables_of
from backend.reports.view import FilterForm, known_portfolio, read_filter, table_view

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Supervisor = Annotated[Viewer, viewer_dep(Perm.VIEW_REPORTS)]
WINDOWS = (1, 3, 7, 14, 30)


@router.get("/reports")
async def reports_home(request: Request, viewer: Supervisor) -> Response:
    """The first dashboard, keeping the query's filters."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/console/reports/recovery{query}", status_code=303)


def _options(container: Container, window: str | None) -> Options:
    days = int(window) if window and window.isascii() and window.isdigit() else DEFAULT_WINDOW_DAYS
    return replace(default_options(container), window_days=min(max(days, 1), MAX_WINDOW_DAYS))


async def _portfolios(container: Container) -> list[tuple[int, str]]:
    async with container.sessions() as db:
        rows = (await db.execute(
            select(Portfolio.id, Creditor.name, Portfolio.name)
            .join(Creditor, Creditor.id == Portfolio.creditor_id)
            .order_by(Creditor.name, Portfolio.name)
        )).all()
    return [(p[0], f"{p[1]} / {p[2]}") for p in rows]


async def _build(container: Container, dashboard: Dashboard, form: FilterForm,
                 window: str | None) -> tuple[Figures, Options]:
    options = _options(container, window)
    return await report_figures(container, dashboard.name, form.filter, options), options


async def _form(container: Container, start: str | None, end: str | None,
                portfolio: str | None, currency: str | None,
                ) -> tuple[FilterForm, list[tuple[int, str]]]:
    """The filter as typed, its mistakes (an unknown portfolio too) reported and ignored."""
    form = read_filter(start, end, portfolio, container.clock.now().date(), currency)
    portfolios = await _portfolios(container)
    return known_portfolio(form, {p[0] for p in portfolios}), portfolios


def _data_uri(svg: str) -> str:
    # As an <img>, the SVG keeps its own styles under the console's CSP (no inline styles).
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _page_route(dashboard: Dashboard) -> Any:
    async def page(request: Request, container: ContainerDep, viewer: Supervisor,
                   start: str | None = None, end: str | None = None,
                   portfolio: str | None = None, window: str | None = None,
                   currency: str | None = None) -> Response:
        form, portfolios = await _form(container, start, end, portfolio, currency)
        fig, options = await _build(container, dashboard, form, window)
        charts = await run_in_threadpool(dashboard.charts, fig.report)
        tables = tables_of(fig.report)
        query = form.query(window=str(options.window_days) if dashboard.name == "strategy"
                           else None)
        shown_in = display_currency(form.currency, fig.currencies)
        return render(request, "dashboard.html", {
            "dashboard": dashboard, "dashboards": DASHBOARDS.values(), "form": form,
            "portfolios": portfolios, "options": options, "windows": WINDOWS,
            "currencies": fig.currencies, "figures": fig,
            "refresh_minutes": int(REFRESH_EVERY.total_seconds() // 60),
            "mixed": dashboard.money and not form.currency and len(fig.currencies) > 1,
            "charts": {name: _data_uri(svg) for name, svg in charts.items()},
            "tables": [table_view(tables[name], title, dashboard.name, query, shown_in)
                       for name, title in dashboard.tables.items()],
        })

    page.__doc__ = f"The {dashboard.title} dashboard: filters, charts, tables, CSV links."
    return page


def _csv_route(dashboard: Dashboard) -> Any:
    async def export(container: ContainerDep, viewer: Supervisor, table: str | None = None,
                     start: str | None = None, end: str | None = None,
                     portfolio: str | None = None, window: str | None = None,
                     currency: str | None = None) -> Response:
        form, _ = await _form(container, start, end, portfolio, currency)
        fig, _ = await _build(container, dashboard, form, window)
        return csv_response(dashboard.name, fig.report, table or dashboard.default_table,
                            as_of_headers(fig))

    export.__doc__ = f"One table of the {dashboard.title} dashboard as CSV (the API's CSV)."
    return export


for _dashboard in DASHBOARDS.values():
    router.add_api_route(f"/reports/{_dashboard.name}", _page_route(_dashboard),
                         methods=["GET"], name=f"dashboard_{_dashboard.name}")
    router.add_api_route(f"/reports/{_dashboard.name}.csv", _csv_route(_dashboard),
                         methods=["GET"], name=f"dashboard_{_dashboard.name}_csv")
