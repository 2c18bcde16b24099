"""The trainer inbox masks identity secrets, refuses a second label for one text, and the
models page says why a promotion was refused."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from backend.cli.nlu import app as nlu_cli
from backend.container import Container
from backend.db.models import AuditEvent, Message, TrainingExample
from backend.db.models.enums import Role
from backend.settings import Settings
from nlu.model import current_version
from nlu.training import train_and_save
from tests.console.conftest import NOW, LoggedIn, Seeder
from tests.nlu.nlu_fixtures import write_small_data

INBOX = "/console/trainer"
BIRTHDAY = "ugh i already gave my birthday 01/16/1964 and zip 89175 last time, whatever"
MAYBE = "i'll see what i can do"


async def _message_of(console: Container, cid: int) -> int:
    async with console.sessions() as session:
        mid = await session.scalar(select(Message.id).where(Message.conversation_id == cid))
    assert mid is not None
    return int(mid)


async def _hidden_form(page: str, mid: int) -> dict[str, list[str]]:
    """The one-click confirm form of a message, as the browser would post it."""
    item = page.split(f'data-message="{mid}"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', item):
        fields.setdefault(name, []).append(html.unescape(value))
    return fields


async def test_dates_of_birth_and_zip_codes_never_reach_the_trainer_or_the_data(
    console: Container, seed: Seeder, logged_in: LoggedIn, settings: Settings, tmp_path: Path
) -> None:
    mid = await _message_of(console, await seed(BIRTHDAY, intent="deny", confidence=0.3))
    client, token, _ = await logged_in(Role.TRAINER)
    page = (await client.get(INBOX)).text
    assert "01/16/1964" not in page and "89175" not in page
    assert "my birthday &lt;date&gt; and zip &lt;zip&gt; last time" in page
    form = await _hidden_form(page, mid)
    assert form.get("words", []) == []  # no entity suggested from the masked secrets
    posted = await client.post(f"{INBOX}/messages/{mid}/accept",
                               data={k: v if len(v) > 1 else v[0] for k, v in form.items()})
    assert posted.headers["location"] == f"{INBOX}?notice=accepted"
    async with console.sessions() as session:
        row = await session.scalar(select(TrainingExample))
    assert row is not None and row.masked == ["date", "zip"]
    assert "1964" not in row.text and "89175" not in row.text
    assert "1964" not in (await client.get(INBOX)).text  # the recent reviews too

    # An entity over the raw words is refused: they are not in the masked text.
    second = await _message_of(console, await seed("born 03/14/1985 pay 50", intent="deny",
                                                   confidence=0.3))
    refused = await client.post(f"{INBOX}/messages/{second}/accept", data={
        "csrf_token": token, "intent": "deny", "text": "born 03/14/1985 pay 50",
        "entity": ["date"], "words": ["03/14/1985"]})
    assert refused.headers["location"] == f"{INBOX}?notice=bad_example"

    out = tmp_path / "accepted.yml"
    result = await asyncio.to_thread(CliRunner().invoke, nlu_cli, ["export", "--out", str(out)],
                                     env={"DATABASE_URL": settings.database_url})
    assert result.exit_code == 0, result.output
    written = out.read_text(encoding="utf-8")
    assert "birthday <date> and zip <zip>" in written
    assert "1964" not in written and "89175" not in written
    assert (await client.get(f"{INBOX}/accepted.yml")).text == written


async def test_a_row_saved_unmasked_before_the_fix_is_exported_masked(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    mid = await _message_of(console, await seed(BIRTHDAY, intent="deny", confidence=0.3))
    _, _, trainer = await logged_in(Role.TRAINER)
    async with console.sessions.begin() as session:
        session.add(TrainingExample(
            message_id=mid, status="accepted", text=BIRTHDAY, intent="deny",
            entities=[{"entity": "date", "start": 31, "end": 41, "value": None},
                      {"entity": "amount", "start": 50, "end": 55, "value": None}],
            masked=[], reviewer_id=trainer, reviewed_at=NOW))
    client, _, _ = await logged_in(Role.ADMIN)
    exported = (await client.get(f"{INBOX}/accepted.yml")).text
    assert "- ugh i already gave my birthday <date> and zip <zip> last time" in exported
    assert "1964" not in exported and "89175" not in exported and "](" not in exported
    assert "1964" not in (await client.get(INBOX)).text


async def test_a_second_label_for_the_same_text_is_refused_naming_the_first(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    first = await _message_of(console, await seed(MAYBE, intent="deny", confidence=0.3))
    second = await _message_of(console, await seed("I'll see what I can do", intent="deny",
                                                   confidence=0.3))
    client, token, _ = await logged_in(Role.TRAINER)
    ok = await client.post(f"{INBOX}/messages/{first}/accept",
                           data={"csrf_token": token, "intent": "deny"})
    assert ok.headers["location"] == f"{INBOX}?notice=accepted"
    refused = await client.post(f"{INBOX}/messages/{second}/accept",
                                data={"csrf_token": token, "intent": "request_extension"})
    assert refused.headers["location"] == (
        f"{INBOX}?notice=label_conflict&label=deny&other={first}")
    page = html.unescape((await client.get(refused.headers["location"])).text)
    assert f"already accepted as deny (message {first})" in page
    assert f'data-message="{second}"' in page  # still waiting for review
    same = await client.post(f"{INBOX}/messages/{second}/accept",
                             data={"csrf_token": token, "intent": "deny"})
    assert same.headers["location"] == f"{INBOX}?notice=accepted"
    forged = html.unescape((await client.get(
        f"{INBOX}?notice=label_conflict&label=<b>x</b>")).text)
    # Notices are vouched for by the console's signed cookie: a crafted link shows none.
    assert "<b>x</b>" not in forged and "another intent" not in forged


async def test_conflicting_rows_already_stored_stop_download_export_and_training(
    console: Container, seed: Seeder, logged_in: LoggedIn, settings: Settings, tmp_path: Path
) -> None:
    ids = [await _message_of(console, await seed(MAYBE, intent="deny", confidence=0.3))
           for _ in range(2)]
    client, token, trainer = await logged_in(Role.TRAINER)
    async with console.sessions.begin() as session:
        for mid, intent in zip(ids, ("deny", "request_extension"), strict=True):
            session.add(TrainingExample(message_id=mid, status="accepted", text=MAYBE,
                                        intent=intent, entities=[], masked=[],
                                        reviewer_id=trainer, reviewed_at=NOW))
    download = await client.get(f"{INBOX}/accepted.yml")
    assert download.status_code == 409
    assert "deny" in download.text and "request_extension" in download.text

    out = tmp_path / "accepted.yml"
    out.write_text("kept\n", encoding="utf-8")
    env = {"DATABASE_URL": settings.database_url}
    exported = await asyncio.to_thread(CliRunner().invoke, nlu_cli,
                                       ["export", "--out", str(out)], env=env)
    assert exported.exit_code == 1 and "request_extension" in exported.output
    assert out.read_text(encoding="utf-8") == "kept\n"
    trained = await asyncio.to_thread(CliRunner().invoke, nlu_cli, [
        "train", "--with-accepted", "--data", str(write_small_data(tmp_path / "data")),
        "--model-dir", str(tmp_path / "cli-models")], env=env)
    assert trained.exit_code == 1 and "accepted under two intents" in trained.output

    admin, admin_token, _ = await logged_in(Role.ADMIN)
    page = await admin.post("/console/models/train", data={"csrf_token": admin_token})
    assert page.status_code == 422
    assert "request_extension" in html.unescape(page.text)
    assert current_version(settings.nlu_model_dir) is None


async def test_promoting_the_live_version_says_it_is_already_live(
    console: Container, logged_in: LoggedIn, settings: Settings, tmp_path: Path
) -> None:
    model, _ = train_and_save(write_small_data(tmp_path / "data"), settings.nlu_model_dir,
                              now=datetime(2026, 11, 25, tzinfo=UTC), strict=False)
    assert current_version(settings.nlu_model_dir) == model.version
    client, token, _ = await logged_in(Role.ADMIN)
    response = await client.post("/console/models/promote",
                                 data={"csrf_token": token, "version": model.version})
    assert "notice=already_live" in response.headers["location"]
    page = (await client.get(response.headers["location"])).text
    assert "this version is already live" in page and "worse overall" not in page
    async with console.sessions() as session:
        assert await session.scalar(select(AuditEvent).where(
            AuditEvent.action == "nlu_model.promoted")) is None
