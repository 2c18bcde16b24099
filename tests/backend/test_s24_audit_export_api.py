"""An examiner reads a debtor's whole record: the account's audit events through the API (JSON
pages and CSV, a bound key kept to its creditor's), `parley audit export`, and the block
reason of a message in the transcript API."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from backend.api.app import create_app
from backend.channels_wiring import close_channels, install_channels
from backend.cli.main import app as cli
from backend.cli.runtime import run
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.engine import build_engine, build_sessionmaker
from backend.db.migrate import upgrade
from backend.db.models import Account, Message
from backend.services import apikeys, ledger
from backend.services.compliance.consent import record_opt_in, record_opt_out
from backend.services.demo import demo_rows
from backend.services.imports.writer import upsert_accounts
from backend.settings import Settings
from bot.clock import SettableClock
from bot.messages import ConversationKey
from tests.conftest import T0
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN

PHONE = "+12125550123"
ACME = {
    "external_ref": "ACME-1",
    "creditor": "Acme Bank",
    "portfolio": "Cards",
    "debtor_name": "Jane Roe",
    "phone": PHONE,
    "state": "NY",
    "currency": "USD",
    "balance": "300.00",
    "due_date": "2026-08-22",
}
BETA = {
    **ACME,
    "external_ref": "BETA-1",
    "creditor": "Beta Telco",
    "portfolio": "Mobile",
    "debtor_name": "John Poe",
    "phone": "+12125550124",
    "balance": "120.00",
}
DISPUTE_RULE = "compliance.md A.5 item 25 (12 CFR 1006.38(d)(2))"
# The events of the story, in order (creating the account may record others besides).
CSV_COLUMNS = [
    "id",
    "occurred_at",
    "action",
    "actor",
    "subject_type",
    "subject_id",
    "reason",
    "rule",
    "detail",
]
WANTED = ("contact.opted_out", "contact.opted_in", "dispute.opened", "compliance.blocked")
runner = CliRunner()


@dataclass
class Record:
    """The client, an agency-wide key, the accounts, and the blocked reminder's message."""

    container: Container
    client: httpx.AsyncClient
    agency: dict[str, str]
    acme_id: int
    beta_id: int
    reminder: dict[str, Any]

    async def bound(self, creditor: str) -> dict[str, str]:
        """The header of a new key bound to `creditor`."""
        return _bearer(await _key(self.container, creditor))

    async def audit(
        self, account_id: int, headers: dict[str, str] | None = None, **params: Any
    ) -> httpx.Response:
        """The account's audit route."""
        return await self.client.get(
            f"/api/accounts/{account_id}/audit", headers=headers or self.agency, params=params
        )


@pytest.fixture
async def record(settings: Settings, clock: SettableClock) -> AsyncIterator[Record]:
    """A STOP, a START and then a reminder blocked for a dispute, on Acme's account."""
    configured = settings.model_copy(
        update={
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_auth_token": AUTH_TOKEN,
            "twilio_api_url": "http://127.0.0.1:9",
            "twilio_sms_from": "+12125550100",
        }
    )
    app = create_app(
        configured, clock=clock, migrate=False, extensions=(install_channels, install_conversations)
    )
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            agency = _bearer(await _key(container, None))
            made = [
                await client.post("/api/accounts", json=body, headers=agency)
                for body in (ACME, BETA)
            ]
            assert [r.status_code for r in made] == [201, 201], [r.text for r in made]
            acme_id, beta_id = (int(r.json()["id"]) for r in made)
            await _stop_then_start(container, clock, "STOP")
            reminder = await _blocked_reminder(container, client, agency, acme_id)
            yield Record(container, client, agency, acme_id, beta_id, reminder)
            await close_channels(container)


async def _key(container: Container, creditor: str | None) -> str:
    async with container.sessions.begin() as session:
        bound = await apikeys.find_creditor(session, creditor) if creditor else None
        _, raw = await apikeys.create_key(session, "examiner", container.clock.now(), None, bound)
    return raw


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


async def _stop_then_start(container: Container, clock: SettableClock, reason: str) -> None:
    key = ConversationKey("sms", PHONE)
    async with container.sessions.begin() as session:
        await record_opt_out(session, key, reason, clock.now())
    clock.advance(timedelta(minutes=5))
    async with container.sessions.begin() as session:
        await record_opt_in(session, key, "START", clock.now())
    clock.advance(timedelta(minutes=5))


async def _blocked_reminder(
    container: Container, client: httpx.AsyncClient, agency: dict[str, str], account_id: int
) -> dict[str, Any]:
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        await ledger.record_dispute(
            session, account, "not my debt", ledger.Origin(container.clock.now(), actor="agent:1")
        )
    reminded = await client.post(f"/api/accounts/{account_id}/remind", headers=agency)
    assert reminded.status_code == 200, reminded.text
    body: dict[str, Any] = reminded.json()
    assert (body["status"], body["reason"]) == ("blocked", "dispute_pause")
    return body


def _actions(page: dict[str, Any]) -> list[str]:
    return [e["action"] for e in page["items"]]


async def test_the_accounts_audit_holds_the_stop_the_start_and_the_blocked_reminder(
    record: Record,
) -> None:
    response = await record.audit(record.acme_id)
    assert response.status_code == 200, response.text
    page = response.json()
    assert [a for a in _actions(page) if a in WANTED] == list(WANTED)
    opted_out, opted_in, _, blocked = [e for e in page["items"] if e["action"] in WANTED]
    assert blocked["subject_type"] == "message"
    assert blocked["subject_id"] == str(record.reminder["message_id"])
    assert blocked["detail"]["reason"] == "dispute_pause"
    assert blocked["detail"]["rule"] == DISPUTE_RULE
    assert (opted_out["subject_type"], opted_out["detail"]["reason"]) == ("contact_point", "STOP")
    assert opted_in["detail"]["keyword"] == "START"
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids) and page["next_after_id"] is None
    # The record names addresses by their last four digits only.
    assert PHONE not in response.text and PHONE[1:] not in response.text
    assert opted_out["detail"]["address"] == "…0123"


async def test_another_creditors_account_is_missing_to_a_bound_key(record: Record) -> None:
    beta = await record.bound("beta telco")
    refused = await record.audit(record.acme_id, beta)
    assert (refused.status_code, refused.json()) == (
        404,
        {"detail": f"no account {record.acme_id}"},
    )
    refused_csv = await record.audit(record.acme_id, beta, format="csv")
    assert refused_csv.status_code == 404
    own = await record.audit(record.acme_id, await record.bound("acme bank"))
    assert own.status_code == 200 and "compliance.blocked" in _actions(own.json())
    # Beta's own record holds none of Acme's events.
    assert not set(_actions((await record.audit(record.beta_id, beta)).json())) & set(WANTED)
    assert (await record.audit(2**40)).json() == {"detail": f"no account {2**40}"}


async def test_pages_follow_one_another_oldest_first(record: Record) -> None:
    every = (await record.audit(record.acme_id)).json()["items"]
    first = (await record.audit(record.acme_id, limit=2)).json()
    assert [e["id"] for e in first["items"]] == [e["id"] for e in every[:2]]
    assert first["next_after_id"] == every[1]["id"]
    rest = (await record.audit(record.acme_id, after_id=first["next_after_id"], limit=500)).json()
    assert [e["id"] for e in rest["items"]] == [e["id"] for e in every[2:]]
    assert (await record.audit(record.acme_id, limit=501)).status_code == 422


async def test_the_csv_has_the_same_rows_and_quotes_a_formula(record: Record) -> None:
    # A provider's or a keyword's text lands in the detail: a spreadsheet must not run it.
    async with record.container.sessions.begin() as session:
        await record_opt_out(
            session, ConversationKey("sms", PHONE), '=HYPERLINK("x")', record.container.clock.now()
        )
    page = (await record.audit(record.acme_id)).json()
    exported = await record.audit(record.acme_id, format="csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert list(rows[0]) == CSV_COLUMNS
    assert [(int(r["id"]), r["action"]) for r in rows] == [
        (e["id"], e["action"]) for e in page["items"]
    ]
    assert rows[-1]["reason"] == '\'=HYPERLINK("x")'
    [blocked] = [r for r in rows if r["action"] == "compliance.blocked"]
    assert (blocked["reason"], blocked["rule"]) == ("dispute_pause", DISPUTE_RULE)
    assert json.loads(blocked["detail"])["reason"] == "dispute_pause"
    assert not any(cell.startswith("=") for row in rows for cell in row.values())


async def test_the_transcript_names_why_a_message_was_blocked(record: Record) -> None:
    async with record.container.sessions() as session:
        message = await session.get(Message, record.reminder["message_id"])
        assert message is not None
        conversation_id = message.conversation_id
    shown = await record.client.get(f"/api/conversations/{conversation_id}", headers=record.agency)
    assert shown.status_code == 200, shown.text
    [reminder] = [m for m in shown.json()["messages"] if m["id"] == record.reminder["message_id"]]
    assert (reminder["delivery_status"], reminder["error_code"]) == ("blocked", "dispute_pause")


# -- `parley audit export` --------------------------------------------------------------------


async def _seed_stop_and_start(url: str) -> int:
    """One account whose phone sent STOP then START; returns the account's id."""
    row = demo_rows(1, T0.date())[0]
    engine = build_engine(url)
    try:
        async with build_sessionmaker(engine).begin() as session:
            await upsert_accounts(session, [row], T0)
        key = ConversationKey("sms", row.phone or "")
        async with build_sessionmaker(engine).begin() as session:
            await record_opt_out(session, key, "STOP", T0)
            await record_opt_in(session, key, "START", T0 + timedelta(minutes=5))
        async with build_sessionmaker(engine)() as session:
            account_id = await session.scalar(select(Account.id))
        assert account_id is not None
        return int(account_id)
    finally:
        await engine.dispose()


def test_the_cli_writes_the_accounts_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    run(lambda: upgrade(url))
    account_id = run(lambda: _seed_stop_and_start(url))
    out = tmp_path / "audit.csv"
    written = runner.invoke(
        cli, ["audit", "export", "--account", str(account_id), "--out", str(out)]
    )
    assert written.exit_code == 0, written.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert f"{len(rows)} audit events of account {account_id} written to {out}" in written.output
    consent = [r for r in rows if r["action"].startswith("contact.opted_")]
    assert [(r["action"], r["reason"]) for r in consent] == [
        ("contact.opted_out", "STOP"),
        ("contact.opted_in", ""),
    ]
    assert json.loads(consent[1]["detail"])["keyword"] == "START"
    printed = runner.invoke(cli, ["audit", "export", "--account", str(account_id)])
    assert printed.exit_code == 0 and printed.output == out.read_text(encoding="utf-8")
    missing = runner.invoke(cli, ["audit", "export", "--account", str(account_id + 1)])
    assert missing.exit_code == 1 and f"no account {account_id + 1}" in missing.output
