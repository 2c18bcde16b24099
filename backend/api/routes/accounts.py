"""The accounts integration API: import, create, list, and everything about one account."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
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
    Response,
    UploadFile,
    status,
)
from sqlalchemy import select

from backend.api.deps import (
    MAX_ID,
    ApiClient,
    ClockDep,
    ContainerDep,
    CreditorScope,
    IdPath,
    ScopeDep,
    SessionDep,
)
from backend.api.exact_json import ExactJSONRoute
from backend.api.schemas.accounts import (
    AccountCreate,
    AccountDetail,
    AccountPage,
    AccountPublic,
    AccountUpserted,
    AccountWritten,
    DpdBucket,
    ImportErrorPublic,
    ImportJobPublic,
    ImportResult,
)
from backend.db.models import Account, Creditor, ImportJob
from backend.db.models.enums import AccountStatus
from backend.services import accounts as account_service
from backend.services import apikeys
from backend.services.accounts import AccountFilter
from backend.services.imports import changes
from backend.services.imports import jobs as import_jobs
from backend.services.imports.rows import AccountRow, validate_row
from backend.services.imports.service import ImportReport, import_accounts
from backend.services.imports.writer import upsert_accounts
from backend.workflow.schedule import planned_contacts

# A balance filter as the ledger stores money (NUMERIC(18, 2)): a wider one cannot be compared.
BalanceQuery = Annotated[Decimal | None, Query(max_digits=18, decimal_places=2)]
router = APIRouter(prefix="/api/accounts", tags=["accounts"], route_class=ExactJSONRoute)


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
    scope: ScopeDep,
    file: Annotated[UploadFile, File(description="accounts CSV (see `parley accounts template`)")],
    skip_invalid: SkipInvalid,
) -> Any:
    """Upsert accounts from a CSV; with any invalid row nothing is written unless skip_invalid."""
    _check_file_creditors(codecs.iterdecode(file.file, "utf-8-sig", "replace"), scope)
    file.file.seek(0)
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
    scope: ScopeDep,
    file: Annotated[UploadFile, File(description="accounts CSV (see `parley accounts template`)")],
    skip_invalid: SkipInvalid,
) -> Any:
    """Queue a CSV for the import job (large files); poll GET /api/accounts/imports/{id}."""
    data = await file.read()
    _check_file_creditors(io.StringIO(data.decode("utf-8-sig", "replace")), scope)
    async with container.sessions.begin() as session:
        job = await import_jobs.submit(
            session, data, filename=file.filename or "accounts.csv",
            directory=container.settings.import_dir, actor=f"apikey:{client.prefix}",
            skip_invalid=skip_invalid, now=container.clock.now(),
        )
        job.creditor_id = scope.creditor_id  # the file was checked to be this creditor's only
    return ImportJobPublic.model_validate(job)


@router.get("/imports/{job_id}", response_model=ImportJobPublic)
async def import_status(job_id: IdPath, session: SessionDep, _: ApiClient) -> Any:
    """Where a queued import is, and its report (rows created, updated, every rejected row); a
    creditor-bound key sees the jobs queued for its creditor (backend.api.deps.OWNED)."""
    job = await session.get(ImportJob, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no import job {job_id}")
    return ImportJobPublic.model_validate(job)


@router.post("", response_model=AccountUpserted | AccountWritten,
             status_code=status.HTTP_201_CREATED,
             responses={status.HTTP_200_OK: {"description": "an existing account updated"}})
async def create_account(
    body: AccountCreate,
    session: SessionDep,
    clock: ClockDep,
    request: Request,
    response: Response,
    key: ApiClient,
    scope: ScopeDep,
) -> Any:
    """Create (201) or update (200) one account, upserted by creditor and external_ref; a
    creditor-bound key only for its creditor (403 otherwise). A key without the `read` scope
    gets back only what identifies the write."""
    if not scope.allows_creditor(body.creditor):
        raise scope.refuse_creditor("creditor", body.creditor)
    fields: dict[str, str | None] = {k: _cell(v) for k, v in body.model_dump().items()}
    row = validate_row(2, fields, clock.now().date(), now=clock.now())
    if not isinstance(row, AccountRow):
        detail = [{"field": e.column, "reason": e.reason} for e in row]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)
    before = await _existing(session, row)
    writer = changes.Writer(actor=f"apikey:{key.prefix}", source="api", now=clock.now())
    debtor_before = await changes.account_debtor(session, before[0]) if before else None
    # Like a re-import, an update never undoes what the ledger recorded (payments).
    counts = await upsert_accounts(session, [row], clock.now(), actor=writer.actor)
    if counts.refused:
        detail = [{"field": e.column, "reason": e.reason} for e in counts.refused]
        raise HTTPException(status.HTTP_409_CONFLICT, detail)
    account_id = before[0] if before else await _account_id(session, row)
    await _record_debtor_changes(session, account_id, debtor_before, writer)
    created, ignored = before is None, _ignored(before, row)
    response.status_code = status.HTTP_200_OK if before else status.HTTP_201_CREATED
    # README: `read` covers every read, the record an upsert answers with included.
    if "read" not in apikeys.scopes_of(key):
        state = await session.scalar(select(Account.status).where(Account.id == account_id))
        return AccountWritten(id=account_id, external_ref=row.external_ref, status=str(state),
                              created=created, ignored=ignored)
    shown = await _detail(session, account_id, clock, request)
    return AccountUpserted.model_validate(
        {**shown.model_dump(), "created": created, "ignored": ignored})


async def _record_debtor_changes(
    session: SessionDep,
    account_id: int,
    before: changes.DebtorState | None,
    writer: changes.Writer,
) -> None:
    """Audit what the write did to the debtor: its consent date, identity factors, contacts."""
    after = await changes.account_debtor(session, account_id)
    if before is None:
        await changes.record_created(session, after, account_id, writer)
    else:
        await changes.record_changes(session, before, after, account_id, writer)


async def _existing(session: SessionDep, row: AccountRow) -> tuple[int, Decimal] | None:
    """The id and balance of the account `row` updates, None when it creates one."""
    found = await _account_ids(session, row)
    if not found:
        return None
    balance = await session.scalar(
        select(Account.current_balance).where(Account.id == found[0]))
    return found[0], balance if balance is not None else Decimal(0)


def _ignored(before: tuple[int, Decimal] | None, row: AccountRow) -> list[str]:
    """The fields of an update not applied: the balance belongs to the ledger."""
    return ["balance"] if before is not None and row.balance != before[1] else []


def _cell(value: Any) -> str:
    """A body field as the CSV cell the import validates: an amount in plain digits (the
    import refuses 1E+16)."""
    if value is None:
        return ""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


@router.get("", response_model=AccountPage)
async def list_accounts(
    session: SessionDep,
    clock: ClockDep,
    scope: ScopeDep,
    status_: Annotated[AccountStatus | None, Query(alias="status")] = None,
    dpd_bucket: DpdBucket | None = None,
    min_balance: BalanceQuery = None,
    max_balance: BalanceQuery = None,
    portfolio_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Any:
    """Accounts, filtered by status, days-past-due bucket, balance range and portfolio (and the
    key's creditor, when it is bound to one)."""
    flt = AccountFilter(
        status=status_,
        dpd_bucket=dpd_bucket,
        min_balance=min_balance,
        max_balance=max_balance,
        portfolio_id=portfolio_id,
        creditor_id=scope.creditor_id,
        limit=limit,
        offset=offset,
    )
    now = clock.now()
    rows, total = await account_service.list_accounts(session, flt, now)
    items = [_public(a, creditor, now) for a, creditor in rows]
    return AccountPage(items=items, total=total, limit=limit, offset=offset)


def _check_file_creditors(lines: Iterable[str], scope: CreditorScope) -> None:
    """403 naming the rows of an accounts file written for another creditor than the key's."""
    if not scope.bound:
        return
    foreign = [row for row, name in _creditor_cells(lines) if not scope.allows_creditor(name)]
    if foreign:
        shown = ", ".join(map(str, foreign[:20])) + (" …" if len(foreign) > 20 else "")
        raise HTTPException(status.HTTP_403_FORBIDDEN, [{
            "field": "creditor",
            "reason": f"rows {shown} name another creditor than this API key's"
                      f" {scope.creditor_name!r}; nothing was imported",
        }])


def _creditor_cells(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(row number, creditor cell) of each data row naming a creditor (the header is row 1);
    a file the importer would refuse anyway is left to its report."""
    reader = csv.reader(lines)
    # Undecodable bytes are read as U+FFFD here (the importer refuses the file); rows past a
    # broken quote are never written: the import stops there.
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        if "creditor" not in header:
            return
        column = header.index("creditor")
        for row, fields in enumerate(reader, start=2):
            if len(fields) > column and fields[column].strip():
                yield row, fields[column]
    except csv.Error:
        return


@router.get("/{account_id}", response_model=AccountDetail)
async def get_account(
    account_id: IdPath, session: SessionDep, clock: ClockDep, request: Request, _: ApiClient
) -> Any:
    """Everything known about one account (404 for another creditor's, to a bound key)."""
    return await _detail(session, account_id, clock, request)


async def _detail(
    session: SessionDep, account_id: int, clock: ClockDep, request: Request
) -> AccountDetail:
    records = await account_service.load_account(session, account_id)
    if records is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account {account_id}")
    base = _public(records.account, records.creditor, clock.now()).model_dump()
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


def _public(account: Account, creditor: str, now: datetime) -> AccountPublic:
    dpd = account_service.days_past_due(account, now)
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
    return (await _account_ids(session, row))[0]


async def _account_ids(session: SessionDep, row: AccountRow) -> list[int]:
    # Creditors match in any case, as the import matches them (casefolded in Python).
    rows = await session.execute(
        select(Account.id, Creditor.name)
        .join(Creditor, Creditor.id == Account.creditor_id)
        .where(Account.external_ref == row.external_ref).order_by(Account.id)
    )
    wanted = row.creditor.casefold()
    return [int(i) for i, name in rows if name.casefold() == wanted]


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
