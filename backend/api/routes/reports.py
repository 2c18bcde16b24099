"""The reports API: every dashboard's figures as JSON, or any of its tables as CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel

from backend.api.deps import ApiClient, ClockDep, ContainerDep, SessionDep
from backend.api.schemas.reports import (
    AutomationPublic,
    NluHealthPublic,
    OutcomesPublic,
    RecoveryPublic,
    StrategyPublic,
)
from backend.reports.automation import DEFAULT_TARGET_SECONDS, automation_report
from backend.reports.csv import table_to_csv
from backend.reports.filters import ReportFilter
from backend.reports.nlu_health import nlu_health_report
from backend.reports.outcomes import outcomes_report
from backend.reports.recovery import recovery_report
from backend.reports.strategy import DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS, strategy_report
from backend.reports.tables import tables_of
from backend.services.queues import QueueConfig

router = APIRouter(prefix="/api/reports", tags=["reports"])
Format = Literal["json", "csv"]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or one table as CSV"}
}


def report_filter(
    start: Annotated[date | None, Query(description="first day, inclusive (UTC)")] = None,
    end: Annotated[date | None, Query(description="last day, inclusive (UTC)")] = None,
    portfolio_id: int | None = None,
    creditor_id: int | None = None,
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


FilterDep = Annotated[ReportFilter, Depends(report_filter)]
TableQuery = Annotated[str | None, Query(description="the table to export with format=csv")]
FormatQuery = Annotated[Format, Query(alias="format")]


def respond(
    name: str, report: Any, fmt: Format, table: str | None, default_table: str,
    schema: type[BaseModel], extra: dict[str, Any],
) -> Any:
    """The report as its JSON schema, or one of its tables as a CSV download."""
    if fmt == "json":
        fields = {t: getattr(report, t) for t in tables_of(report)}
        return schema.model_validate({**fields, **extra})
    return csv_response(name, report, table or default_table)


def csv_response(name: str, report: Any, table: str) -> Response:
    """One table of a report as a CSV download; 422 naming the choices when unknown."""
    tables = tables_of(report)
    if table not in tables:
        detail = f"unknown table {table!r}; choose one of {', '.join(tables)}"
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)
    disposition = f'attachment; filename="{name}-{table}.csv"'
    return Response(table_to_csv(tables[table]), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": disposition})


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
    session: SessionDep, clock: ClockDep, _: ApiClient, flt: FilterDep,
    fmt: FormatQuery = "json", table: TableQuery = None,
) -> Any:
    """Placed, collected and recovery rate of the accounts placed in the period; aging; cash."""
    today = clock.now().date()
    report = await recovery_report(session, flt, today)
    return respond("recovery", report, fmt, table, "by_portfolio", RecoveryPublic,
                   {"filter": flt, "as_of": today})


@router.get("/outcomes", response_model=OutcomesPublic, responses=CSV_RESPONSE)
async def outcomes(
    session: SessionDep, _: ApiClient, flt: FilterDep,
    fmt: FormatQuery = "json", table: TableQuery = None,
) -> Any:
    """Contact, promise and opt-out rates; promises, plans, disputes and stop-states."""
    report = await outcomes_report(session, flt)
    return respond("outcomes", report, fmt, table, "rates", OutcomesPublic, {"filter": flt})


@router.get("/automation", response_model=AutomationPublic, responses=CSV_RESPONSE)
async def automation(
    container: ContainerDep, session: SessionDep, _: ApiClient, flt: FilterDep,
    fmt: FormatQuery = "json", table: TableQuery = None,
    target_seconds: Annotated[int | None, Query(
        ge=1, description="one target for every queue; default: each queue's configured one",
    )] = None,
) -> Any:
    """Bot-only vs handed-off conversations; first response against the target; agents."""
    queues = getattr(container.services.get("handoff"), "queues", None)
    default, per_queue = automation_targets(queues, target_seconds)
    report = await automation_report(session, flt, target_seconds=default,
                                     queue_targets=per_queue)
    return respond("automation", report, fmt, table, "handoffs", AutomationPublic,
                   {"filter": flt})


@router.get("/nlu", response_model=NluHealthPublic, responses=CSV_RESPONSE)
async def nlu(
    container: ContainerDep, session: SessionDep, _: ApiClient, flt: FilterDep,
    fmt: FormatQuery = "json", table: TableQuery = None,
    threshold: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
) -> Any:
    """Intent mix, low-confidence share (below `threshold`, default the NLU's) and corrections."""
    threshold = container.settings.nlu_confidence_threshold if threshold is None else threshold
    report = await nlu_health_report(session, flt, threshold=threshold)
    return respond("nlu", report, fmt, table, "intents", NluHealthPublic,
                   {"filter": flt, "threshold": threshold})


@router.get("/strategy", response_model=StrategyPublic, responses=CSV_RESPONSE)
async def strategy(
    session: SessionDep, _: ApiClient, flt: FilterDep,
    fmt: FormatQuery = "json", table: TableQuery = None,
    window_days: Annotated[int, Query(ge=1, le=MAX_WINDOW_DAYS)] = DEFAULT_WINDOW_DAYS,
) -> Any:
    """Per strategy step and A/B variant: sent, delivered, replied, promised, paid, collected.

    Replies, promises and payments are credited to the account's latest send before them,
    within `window_days` (last touch).
    """
    report = await strategy_report(session, flt, window_days=window_days)
    return respond("strategy", report, fmt, table, "steps", StrategyPublic,
                   {"filter": flt, "window_days": window_days})
