"""The accounts integration API: import, create, list, and everything about one account."""

from __future__ import annotations

import codecs
from decimal import Decimal
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    UploadFile,
    status,
)
from sqlalchemy import select

from backend.api.deps import MAX_ID, ApiClient, ClockDep, ContainerDep, IdPath, SessionDep
from backend.api.schemas.accounts import (
    AccountCreate,
    AccountDetail,
    AccountPage,
    AccountPublic,
    DpdBucket,
    ImportErrorPublic,
    ImportJobPublic,
    ImportResult,
)
from backend.db.models import Account, Creditor, ImportJob
from backend.services import accounts as account_service
from backend.services.imports import jobs as import_jobs
from backend.services.imports.rows import AccountRow, validate_row
from backend.services.imports.service import ImportReport, import_accounts
from backend.services.imports.writer import upsert_accounts
from backend.workflow.schedule import planned_contacts

router = APIRouter(prefix="/api/accounts", tags=["accounts"])


class UploadImportResult(ImportResult):
    """What an upload's import did, and which uploaded file its errors are about."""

    file: str


def _upload_name(file: UploadFile) -> str:
    return file.filename or "upload"


def _skip_invalid(
    skip_invalid: Annotated[bool, Query(description="write the valid rows anyway")] = False,
    form_value: Annotated[bool | None, Form(alias="skip_invalid",
                                            description="the same, as a form field")] = None,
) -> bool:
    """`skip_invalid` from the query string or from the multipart form, whichever was sent."""
    return skip_invalid or bool(form_value)


SkipInvalid = Annotated[bool, Depends(_skip_invalid)]


@router.post("/import", response_model=UploadImportResult)
async def import_csv(
    container: ContainerDep,
    client: ApiClient,
    file: Annotated[UploadFile, File(description="accounts CSV (see `parley accounts template`)")],
    skip_invalid: SkipInvalid,
) -> Any:
    """Upsert accounts from a CSV; with any invalid row nothing is written unless skip_invalid."""
    lines = codecs.iterdecode(file.file, "utf-8-sig")
    try:
        report, _ = await import_accounts(
            container.sessions,
            lines,
            now=container.clock.now(),
            actor=f"apikey:{client.prefix}",
            skip_invalid=skip_invalid,
        )
    except UnicodeDecodeError as exc:  # the reader raises NotUtf8, which names the line
        detail = f"{_upload_name(file)}: {exc}"
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from exc
    result = _import_result(report, _upload_name(file))
    if report.errors and not report.written:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, result.model_dump(mode="json"))
    return result


@router.post("/imports", response_model=ImportJobPublic, status_code=status.HTTP_202_ACCEPTED)
async def queue_import(
    container: ContainerDep,
    client: ApiClient,
    file: Annotated[UploadFile, File(description="accounts CSV (see `parley accounts template`)")],
    skip_invalid: SkipInvalid,
) -> Any:
    """Queue a CSV for the import job (large files); poll GET /api/accounts/imports/{id}."""
    data = await file.read()
    async with container.sessions.begin() as session:
        job = await import_jobs.submit(
            session, data, filename=file.filename or "accounts.csv",
            directory=container.settings.import_dir, actor=f"apikey:{client.prefix}",
            skip_invalid=skip_invalid, now=container.clock.now(),
        )
    return ImportJobPublic.model_validate(job)


@router.get("/imports/{job_id}", response_model=ImportJobPublic)
async def import_status(job_id: IdPath, session: SessionDep, _: ApiClient) -> Any:
    """Where a queued import is, and its report (rows created, updated, every rejected row)."""
    job = await session.get(ImportJob, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no import job {job_id}")
    return ImportJobPublic.model_validate(job)


@router.post("", response_model=AccountDetail, status_code=status.HTTP_201_CREATED)
async def create_account(
    body: AccountCreate, session: SessionDep, clock: ClockDep, request: Request, key: ApiClient
) -> Any:
    """Create or update one account (upsert by creditor and external_ref)."""
    fields = {k: "" if v is None else str(v) for k, v in body.model_dump().items()}
    row = validate_row(2, fields, clock.now().date(), now=clock.now())
    if not isinstance(row, AccountRow):
        detail = [{"field": e.column, "reason": e.reason} for e in row]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)
    # Like a re-import, an update never undoes what the ledger recorded (payments).
    counts = await upsert_accounts(session, [row], clock.now(), actor=f"apikey:{key.prefix}")
    if counts.refused:
        detail = [{"field": e.column, "reason": e.reason} for e in counts.refused]
        raise HTTPException(status.HTTP_409_CONFLICT, detail)
    account_id = await _account_id(session, row)
    return await _detail(session, account_id, clock, request)


@router.get("", response_model=AccountPage)
async def list_accounts(
    session: SessionDep,
    clock: ClockDep,
    _: ApiClient,
    status_: Annotated[str | None, Query(alias="status")] = None,
    dpd_bucket: DpdBucket | None = None,
    min_balance: Decimal | None = None,
    max_balance: Decimal | None = None,
    portfolio_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    """Accounts, filtered by status, days-past-due bucket, balance range and portfolio."""
    flt = account_service.AccountFilter(
        status=status_,
        dpd_bucket=dpd_bucket,
        min_balance=min_balance,
        max_balance=max_balance,
        portfolio_id=portfolio_id,
        limit=limit,
        offset=offset,
    )
    today = clock.now().date()
    rows, total = await account_service.list_accounts(session, flt, today)
    items = [_public(a, creditor, today) for a, creditor in rows]
    return AccountPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{account_id}", response_model=AccountDetail)
async def get_account(
    account_id: IdPath, session: SessionDep, clock: ClockDep, request: Request, _: ApiClient
) -> Any:
    """Everything known about one account."""
    return await _detail(session, account_id, clock, request)


async def _detail(session: SessionDep, account_id: int, clock: ClockDep, request: Request) -> Any:
    records = await account_service.load_account(session, account_id)
    if records is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account {account_id}")
    today = clock.now().date()
    base = _public(records.account, records.creditor, today).model_dump()
    portal = request.app.state.container.services.get("portal_links")
    return AccountDetail(
        **base,
        debtor=records.account.debtor,  # type: ignore[arg-type]
        payments=records.payments,
        promises=records.promises,  # type: ignore[arg-type]
        plans=records.plans,
        disputes=records.disputes,  # type: ignore[arg-type]
        conversations=[
            {
                "id": c.id,
                "channel": c.channel,
                "ownership": c.ownership,
                "started_at": c.started_at,
                "last_message_at": c.last_message_at,
                "handoff_queue": h.queue if h else None,
                "handoff_reason": h.reason if h else None,
            }
            for c, h in records.conversations
        ],  # type: ignore[arg-type]
        portal_url=portal.url_for(records.account) if portal else None,
        planned_contacts=await planned_contacts(session, account_id, clock.now()),
    )


def _public(account: Account, creditor: str, today: Any) -> AccountPublic:
    dpd = account.days_past_due(today)
    return AccountPublic(
        id=account.id,
        external_ref=account.external_ref,
        creditor=creditor,
        portfolio=account.portfolio.name,
        portfolio_id=account.portfolio_id,
        debtor_id=account.debtor_id,
        debtor_name=account.debtor.full_name,
        currency=account.currency,
        original_balance=account.original_balance,
        current_balance=account.current_balance,
        due_date=account.due_date,
        days_past_due=dpd,
        dpd_bucket=account_service.dpd_bucket(dpd),  # type: ignore[arg-type]
        status=account.status,
        stop_states=account.stop_states,
    )


async def _account_id(session: SessionDep, row: AccountRow) -> int:
    # Creditors match in any case, as the import matches them (casefolded in Python).
    rows = await session.execute(
        select(Account.id, Creditor.name)
        .join(Creditor, Creditor.id == Account.creditor_id)
        .where(Account.external_ref == row.external_ref).order_by(Account.id)
    )
    wanted = row.creditor.casefold()
    return next(int(i) for i, name in rows if name.casefold() == wanted)


def _import_result(report: ImportReport, file_name: str) -> UploadImportResult:
    return UploadImportResult(
        file=file_name,
        total=report.total,
        created=report.created,
        updated=report.updated,
        written=report.written,
        rejected_rows=report.rejected_rows,
        errors=[
            ImportErrorPublic(row=e.row, column=e.column, reason=e.reason) for e in report.errors
        ],
    )
