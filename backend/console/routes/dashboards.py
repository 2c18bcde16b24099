"""The supervisors' dashboards: recovery, outcomes, automation, strategy and NLU health."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse

from backend.api.deps import ContainerDep
from backend.api.routes.reports import automation_targets, csv_response
from backend.console.deps import ConsoleRoute, Viewer, handoff_service, render, viewer_dep
from backend.console.permissions import Perm
from backend.container import Container
from backend.db.models import Creditor, Portfolio
from backend.reports.catalog import DASHBOARDS, Dashboard, Options
from backend.reports.filters import currencies_in_scope
from backend.reports.strategy import DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS
from backend.reports.tables import tables_of
from backend.reports.view import FilterForm, read_filter, table_view

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Supervisor = Annotated[Viewer, viewer_dep(Perm.VIEW_REPORTS)]
WINDOWS = (1, 3, 7, 14, 30)


@router.get("/reports")
async def reports_home(request: Request, viewer: Supervisor) -> Response:
    """The first dashboard, keeping the query's filters."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/console/reports/recovery{query}", status_code=303)


def _options(container: Container, window: str | None) -> Options:
    queues = handoff_service(container).queues if "handoff" in container.services else None
    default, per_queue = automation_targets(queues, None)
    days = int(window) if window and window.isdigit() else DEFAULT_WINDOW_DAYS
    return Options(today=container.clock.now().date(),
                   threshold=container.settings.nlu_confidence_threshold,
                   target_seconds=default, queue_targets=per_queue,
                   window_days=min(max(days, 1), MAX_WINDOW_DAYS))


async def _build(container: Container, dashboard: Dashboard, form: FilterForm,
                 window: str | None) -> tuple[Any, Options, list[tuple[int, str]], list[str]]:
    options = _options(container, window)
    async with container.sessions() as db:
        report = await dashboard.build(db, form.filter, options)
        currencies = await currencies_in_scope(db, form.filter)
        portfolios = (await db.execute(
            select(Portfolio.id, Creditor.name, Portfolio.name)
            .join(Creditor, Creditor.id == Portfolio.creditor_id)
            .order_by(Creditor.name, Portfolio.name)
        )).all()
    return report, options, [(p[0], f"{p[1]} / {p[2]}") for p in portfolios], currencies


def _data_uri(svg: str) -> str:
    # As an <img>, the SVG keeps its own styles under the console's CSP (no inline styles).
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _page_route(dashboard: Dashboard) -> Any:
    async def page(request: Request, container: ContainerDep, viewer: Supervisor,
                   start: str | None = None, end: str | None = None,
                   portfolio: str | None = None, window: str | None = None,
                   currency: str | None = None) -> Response:
        form = read_filter(start, end, portfolio, container.clock.now().date(), currency)
        report, options, portfolios, currencies = await _build(container, dashboard, form,
                                                               window)
        charts = await run_in_threadpool(dashboard.charts, report)
        tables = tables_of(report)
        query = form.query(window=str(options.window_days) if dashboard.name == "strategy"
                           else None)
        return render(request, "dashboard.html", {
            "dashboard": dashboard, "dashboards": DASHBOARDS.values(), "form": form,
            "portfolios": portfolios, "options": options, "windows": WINDOWS,
            "currencies": currencies,
            "mixed": not form.currency and len(currencies) > 1,
            "charts": {name: _data_uri(svg) for name, svg in charts.items()},
            "tables": [table_view(tables[name], title, dashboard.name, query)
                       for name, title in dashboard.tables.items()],
        })

    page.__doc__ = f"The {dashboard.title} dashboard: filters, charts, tables, CSV links."
    return page


def _csv_route(dashboard: Dashboard) -> Any:
    async def export(container: ContainerDep, viewer: Supervisor, table: str | None = None,
                     start: str | None = None, end: str | None = None,
                     portfolio: str | None = None, window: str | None = None,
                     currency: str | None = None) -> Response:
        form = read_filter(start, end, portfolio, container.clock.now().date(), currency)
        report, _, _, _ = await _build(container, dashboard, form, window)
        return csv_response(dashboard.name, report, table or dashboard.default_table)

    export.__doc__ = f"One table of the {dashboard.title} dashboard as CSV (the API's CSV)."
    return export


for _dashboard in DASHBOARDS.values():
    router.add_api_route(f"/reports/{_dashboard.name}", _page_route(_dashboard),
                         methods=["GET"], name=f"dashboard_{_dashboard.name}")
    router.add_api_route(f"/reports/{_dashboard.name}.csv", _csv_route(_dashboard),
                         methods=["GET"], name=f"dashboard_{_dashboard.name}_csv")
