"""The reports API: every dashboard's figures as JSON, or any of its tables as CSV."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from email.utils import format_datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel

from backend.api.deps import (
    ApiClient,
    ContainerDep,
    CreditorScope,
    IdQuery,
    ScopeDep,
    SessionDep,
)
from backend.api.schemas.reports import (
    AutomationPublic,
    NluHealthPublic,
    OutcomesPublic,
    RecoveryPublic,
    StrategyPublic,
)
from backend.container import Container
from backend.db.models import Creditor, Portfolio
from backend.reports.automation import DEFAULT_TARGET_SECONDS
from backend.reports.catalog import DASHBOARDS, Options
from backend.reports.csv import table_to_csv
from backend.reports.filters import ReportFilter
from backend.reports.source import Figures, figures
from backend.reports.strategy import DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS
from backend.reports.tables import tables_of
from backend.services.queues import QueueConfig

router = APIRouter(prefix="/api/reports", tags=["reports"])
Format = Literal["json", "csv"]
MAX_ID = 2**63 - 1  # past it the database refuses the number instead of finding no row
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or one table as CSV"}
}


def report_filter(
    start: Annotated[date | None, Query(description="first day, inclusive (UTC)")] = None,
    end: Annotated[date | None, Query(description="last day, inclusive (UTC)")] = None,
    portfolio_id: int | None = None,  # an unknown one is named by the route (422)
    creditor_id: IdQuery = None,
    currency: Annotated[str | None, Query(
        pattern="^[A-Za-z]{3}$",
        description="only accounts in this ISO 4217 currency (money adds up within one)")] = None,
) -> ReportFilter:
    """The query's filter; 422 when the range is backwards."""
    try:
        return ReportFilter(start, end, portfolio_id, creditor_id,
                            currency.upper() if currency else None)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


async def checked_filter(session: SessionDep, scope: ScopeDep,
                         flt: Annotated[ReportFilter, Depends(report_filter)]) -> ReportFilter:
    """The query's filter, kept to a creditor-bound key's creditor; 422 when its portfolio or
    creditor does not exist (or the portfolio is another creditor's, to a bound key), as for a
    malformed date."""
    wanted = flt.portfolio_id
    portfolio = (await session.get(Portfolio, wanted)
                 if wanted is not None and 0 < wanted <= MAX_ID else None)
    if wanted is not None and (portfolio is None or not _reaches(scope, portfolio)):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"unknown portfolio_id {flt.portfolio_id}")
    if not scope.bound:
        if flt.creditor_id is not None and await session.get(Creditor, flt.creditor_id) is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"unknown creditor_id {flt.creditor_id}")
        return flt
    # Another creditor's id is refused whether or not it exists: a bound key learns nothing.
    if flt.creditor_id not in (None, scope.creditor_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, [{
            "field": "creditor_id",
            "reason": f"this API key reaches creditor {scope.creditor_id} only"}])
    return replace(flt, creditor_id=scope.creditor_id)


def _reaches(scope: CreditorScope, portfolio: Portfolio) -> bool:
    return not scope.bound or portfolio.creditor_id == scope.creditor_id


FilterDep = Annotated[ReportFilter, Depends(checked_filter)]
TableQuery = Annotated[str | None, Query(description="the table to export with format=csv")]
FormatQuery = Annotated[Format, Query(alias="format")]


def default_options(container: Container) -> Options:
    """The console's default options, for which the refresh job makes all-time snapshots."""
    queues = getattr(container.services.get("handoff"), "queues", None)
    target, per_queue = automation_targets(queues, None)
    return Options(today=container.clock.now().date(),
                   threshold=container.settings.nlu_confidence_threshold,
                   target_seconds=target, queue_targets=per_queue)


def snapshot_options(container: Container) -> Options | None:
    """The options all-time snapshots are read for; none in sandbox mode, whose clock stands
    still between moves, so a snapshot's age there says nothing about the data since."""
    return None if container.settings.parley_sandbox else default_options(container)


async def report_figures(container: Container, name: str, flt: ReportFilter,
                         opt: Options) -> Figures:
    """A dashboard's figures as the console reads them for the same filter and options."""
    return await figures(container.sessions, DASHBOARDS[name], flt, opt, container.clock.now(),
                         snapshot_options(container))


def as_of_headers(fig: Figures) -> dict[str, str]:
    """When the figures were computed, and whether they are a stored all-time snapshot."""
    return {"Last-Modified": format_datetime(fig.as_of, usegmt=True),
            "X-Report-As-Of": fig.as_of.isoformat(),
            "X-Report-Source": "snapshot" if fig.snapshot else "live"}


def respond(
    name: str, fig: Figures, fmt: Format, table: str | None, response: Response,
    schema: type[BaseModel], extra: dict[str, Any],
) -> Any:
    """The report as its JSON schema, or one of its tables as a CSV download; both say when
    the figures were computed (headers: the CSV's header row stays the first line)."""
    headers = as_of_headers(fig)
    if fmt == "json":
        response.headers.update(headers)
        fields = {t: getattr(fig.report, t) for t in tables_of(fig.report)}
        return schema.model_validate({**fields, **extra})
    return csv_response(name, fig.report, table or DASHBOARDS[name].default_table, headers)


def csv_response(name: str, report: Any, table: str,
                 headers: dict[str, str] | None = None) -> Response:
    """One table of a report as a CSV download; 422 naming the choices when unknown."""
    tables = tables_of(report)
    if table not in tables:
        detail = f"unknown table {table!r}; choose one of {', '.join(tables)}"
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)
    disposition = f'attachment; filename="{name}-{table}.csv"'
    return Response(table_to_csv(tables[table]), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": disposition, **(headers or {})})


def automation_targets(
    queues: QueueConfig | None, target_seconds: int | None
) -> tuple[int, dict[str, int]]:
    """(default target, per-queue targets) in seconds: one given target for every queue, else
    each configured queue's own (unknown queues get the default queue's), else 15 minutes."""
    if target_seconds is not None or queues is None:
        return target_seconds or DEFAULT_TARGET_SECONDS, {}
    per_queue = {q.name: int(q.target.total_seconds()) for q in queues.queues}
    return int(queues.default.target.total_seconds()), per_queue


@router.get("/recovery", response_model=RecoveryPublic, responses=CSV_RESPONSE)
async def recovery(
    container: ContainerDep, response: Response, _: ApiClient, flt: FilterDep,
    fmt: FormatQuery = "json", table: TableQuery = None,
) -> Any:
    """Placed, collected and recovery rate of the accounts placed in the period; aging; cash."""
    opt = default_options(container)
    fig = await report_figures(container, "recovery", flt, opt)
    return respond("recovery", fig, fmt, table, response, RecoveryPublic,
                   {"filter": flt, "as_of": opt.today})


@router.get("/outcomes", response_model=OutcomesPublic, responses=CSV_RESPONSE)
async def outcomes(
    container: ContainerDep, response: Response, _: ApiClient, flt: FilterDep,
    fmt: FormatQuery = "json", table: TableQuery = None,
) -> Any:
    """Contact, promise and opt-out rates; promises, plans, disputes and stop-states."""
    fig = await report_figures(container, "outcomes", flt, default_options(container))
    return respond("outcomes", fig, fmt, table, response, OutcomesPublic, {"filter": flt})


@router.get("/automation", response_model=AutomationPublic, responses=CSV_RESPONSE)
async def automation(
    container: ContainerDep, response: Response, _: ApiClient, flt: FilterDep,
    fmt: FormatQuery = "json", table: TableQuery = None,
    target_seconds: Annotated[int | None, Query(
        ge=1, description="one target for every queue; default: each queue's configured one",
    )] = None,
) -> Any:
    """Bot-only vs handed-off conversations; first response against the target; agents."""
    queues = getattr(container.services.get("handoff"), "queues", None)
    target, per_queue = automation_targets(queues, target_seconds)
    opt = replace(default_options(container), target_seconds=target, queue_targets=per_queue)
    fig = await report_figures(container, "automation", flt, opt)
    return respond("automation", fig, fmt, table, response, AutomationPublic, {"filter": flt})


@router.get("/nlu", response_model=NluHealthPublic, responses=CSV_RESPONSE)
async def nlu(
    container: ContainerDep, response: Response, _: ApiClient, flt: FilterDep,
    fmt: FormatQuery = "json", table: TableQuery = None,
    threshold: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
) -> Any:
    """Intent mix, low-confidence share (below `threshold`, default the NLU's) and corrections."""
    threshold = container.settings.nlu_confidence_threshold if threshold is None else threshold
    opt = replace(default_options(container), threshold=threshold)
    fig = await report_figures(container, "nlu", flt, opt)
    return respond("nlu", fig, fmt, table, response, NluHealthPublic,
                   {"filter": flt, "threshold": threshold})


@router.get("/strategy", response_model=StrategyPublic, responses=CSV_RESPONSE)
async def strategy(
    container: ContainerDep, response: Response, _: ApiClient, flt: FilterDep,
    fmt: FormatQuery = "json", table: TableQuery = None,
    window_days: Annotated[int, Query(ge=1, le=MAX_WINDOW_DAYS)] = DEFAULT_WINDOW_DAYS,
) -> Any:
    """Per strategy step and A/B variant: sent, delivered, replied, promised, paid, collected.

    Replies, promises and payments are credited to the account's latest send before them,
    within `window_days` (last touch).
    """
    opt = replace(default_options(container), window_days=window_days)
    fig = await report_figures(container, "strategy", flt, opt)
    return respond("strategy", fig, fmt, table, response, StrategyPublic,
                   {"filter": flt, "window_days": window_days})
