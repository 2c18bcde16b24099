"""The trainers' inbox over HTTP: what lands there, confirm, relabel, dismiss, masking, export."""

from __future__ import annotations

import asyncio
import html
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from backend.cli.nlu import app as nlu_cli
from backend.container import Container
from backend.db.models import AuditEvent, IntentCorrection, Message, TrainingExample
from backend.db.models.enums import Role
from backend.settings import Settings
from nlu.dataset import TrainingData
from nlu.model import read_metadata
from nlu.reader import read_file
from tests.conftest import TRAINING_DATA
from tests.console.conftest import NOW, AgentFactory, LoggedIn, Seeder

INBOX = "/console/trainer"


async def _first_message(console: Container, cid: int) -> int:
    async with console.sessions() as session:
        mid = await session.scalar(select(Message.id).where(Message.conversation_id == cid))
    assert mid is not None
    return int(mid)


@pytest.fixture
async def messages(console: Container, seed: Seeder, make_agent: AgentFactory) -> dict[str, int]:
    """One message of each kind; Michael Hall is the first seeded debtor."""
    low = await _first_message(console, await seed(
        "Michael here, call 305-555-0164 about the 50", intent="out_of_scope", confidence=0.2))
    sure = await _first_message(console, await seed("hello", intent="greet", confidence=0.97))
    corrected = await _first_message(console, await seed(
        "my brother pays it", intent="pay_partial", confidence=0.8))
    handed_cid = await seed("put me through to your boss", intent="complaint", confidence=0.9)
    handed = await _first_message(console, handed_cid)
    agent = await make_agent(Role.AGENT, "agent@example.com")
    async with console.sessions.begin() as session:
        session.add(IntentCorrection(message_id=corrected, original_intent="pay_partial",
                                     original_confidence=0.8, corrected_intent="wrong_person",
                                     agent_id=agent, created_at=NOW))
        await console.services["handoff"].open_handoff(session, handed_cid, "request_agent",
                                                       now=NOW)
    return {"low": low, "sure": sure, "corrected": corrected, "handed": handed}


def _items(page: str) -> list[str]:
    return [chunk.split('"', 1)[0] for chunk in page.split('data-message="')[1:]]


async def test_the_inbox_holds_low_confidence_corrected_and_handed_off_messages(
    logged_in: LoggedIn, messages: dict[str, int]
) -> None:
    client, _, _ = await logged_in(Role.TRAINER)
    page = (await client.get(INBOX)).text
    assert sorted(map(int, _items(page))) == sorted(
        messages[k] for k in ("low", "corrected", "handed"))
    assert "<name> here, call <phone> about the 50" in html.unescape(page)
    assert "Michael" not in page and "305-555-0164" not in page  # masked before it is shown
    assert "masked: name, phone" in page
    assert "agent corrected" in page and "<strong>wrong_person</strong>" in page
    assert "before a handoff" in page and "low confidence" in page
    assert "Confirm wrong_person" in page  # the agent's label is the one-click default


async def test_one_click_confirm_saves_the_masked_example_and_clears_the_inbox(
    console: Container, logged_in: LoggedIn, messages: dict[str, int]
) -> None:
    client, token, trainer_id = await logged_in(Role.TRAINER)
    page = (await client.get(INBOX)).text
    assert 'name="words" value="50"' in page  # the amount is suggested as an entity
    response = await client.post(f"/console/trainer/messages/{messages['low']}/accept", data={
        "csrf_token": token, "intent": "ask_balance",
        "text": "Michael here, call 305-555-0164 about the 50",  # masked again server-side
        "entity": ["amount"], "words": ["50"],
    })
    assert response.headers["location"] == f"{INBOX}?notice=accepted"
    async with console.sessions() as session:
        row = await session.scalar(select(TrainingExample))
        events = (await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "training_example.accepted"))).all()
    assert row is not None and row.status == "accepted"
    assert row.text == "<name> here, call <phone> about the 50"
    assert row.intent == "ask_balance" and row.reviewer_id == trainer_id
    start = row.text.index("50")
    assert row.entities == [{"entity": "amount", "start": start, "end": start + 2, "value": None}]
    assert row.masked == ["name", "phone"] and row.reasons == "low_confidence"
    assert row.original_intent == "out_of_scope" and row.original_confidence == 0.2
    assert len(events) == 1 and "Michael" not in str(events[0].data)
    assert str(messages["low"]) not in _items((await client.get(INBOX)).text)
    again = await client.post(f"/console/trainer/messages/{messages['low']}/accept",
                              data={"csrf_token": token, "intent": "greet"})
    assert again.headers["location"] == f"{INBOX}?notice=not_in_inbox"


async def test_confirming_a_correction_marks_it_reviewed(
    console: Container, logged_in: LoggedIn, messages: dict[str, int]
) -> None:
    client, token, _ = await logged_in(Role.TRAINER)
    await client.post(f"/console/trainer/messages/{messages['corrected']}/accept",
                      data={"csrf_token": token, "intent": "wrong_person",
                            "text": "my brother pays it"})
    async with console.sessions() as session:
        correction = await session.scalar(select(IntentCorrection))
    assert correction is not None and correction.status == "reviewed"


async def test_a_relabel_with_words_not_in_the_text_is_refused(
    console: Container, logged_in: LoggedIn, messages: dict[str, int]
) -> None:
    client, token, _ = await logged_in(Role.TRAINER)
    for data in ({"intent": "promise_to_pay", "entity": ["date"], "words": ["friday"]},
                 {"intent": "no_such_intent"}):
        response = await client.post(f"/console/trainer/messages/{messages['handed']}/accept",
                                     data={"csrf_token": token, **data})
        assert response.headers["location"] == f"{INBOX}?notice=bad_example"
    page = (await client.get(f"{INBOX}?notice=bad_example")).text
    assert "copy each entity" in page
    async with console.sessions() as session:
        assert await session.scalar(select(TrainingExample)) is None


async def test_dismiss_keeps_no_text_and_a_confident_message_cannot_be_reviewed(
    console: Container, logged_in: LoggedIn, messages: dict[str, int]
) -> None:
    client, token, _ = await logged_in(Role.TRAINER)
    response = await client.post(f"/console/trainer/messages/{messages['handed']}/dismiss",
                                 data={"csrf_token": token})
    assert response.headers["location"] == f"{INBOX}?notice=dismissed"
    sure = await client.post(f"/console/trainer/messages/{messages['sure']}/dismiss",
                             data={"csrf_token": token})
    assert sure.headers["location"] == f"{INBOX}?notice=not_in_inbox"
    async with console.sessions() as session:
        rows = (await session.scalars(select(TrainingExample))).all()
    assert [(r.message_id, r.status, r.text, r.intent) for r in rows] == [
        (messages["handed"], "dismissed", "", None)]


async def _accept_two(client, token: str, messages: dict[str, int]) -> None:
    await client.post(f"/console/trainer/messages/{messages['low']}/accept", data={
        "csrf_token": token, "intent": "ask_balance", "entity": ["amount"], "words": ["50"]})
    await client.post(f"/console/trainer/messages/{messages['handed']}/accept",
                      data={"csrf_token": token, "intent": "request_agent"})


async def test_the_download_is_rasa_yaml_the_reader_accepts(
    logged_in: LoggedIn, messages: dict[str, int], tmp_path: Path
) -> None:
    client, token, _ = await logged_in(Role.TRAINER)
    await _accept_two(client, token, messages)
    response = await client.get("/console/trainer/accepted.yml")
    assert response.headers["content-disposition"] == 'attachment; filename="accepted.yml"'
    path = tmp_path / "accepted.yml"
    path.write_text(response.text, encoding="utf-8")
    data = TrainingData()
    assert read_file(path, data) == []
    assert sorted((e.intent, e.text) for e in data.examples) == [
        ("ask_balance", "<name> here, call <phone> about the 50"),
        ("request_agent", "put me through to your boss")]
    assert [(a.entity, a.text) for a in data.examples[0].annotations] == [("amount", "50")]


async def test_parley_nlu_export_writes_the_same_file(
    logged_in: LoggedIn, messages: dict[str, int], settings: Settings, tmp_path: Path
) -> None:
    client, token, _ = await logged_in(Role.TRAINER)
    await _accept_two(client, token, messages)
    downloaded = (await client.get("/console/trainer/accepted.yml")).text
    out = tmp_path / "training_data" / "accepted.yml"
    # The CLI runs its own event loop: give it a thread, as a shell would give it a process.
    result = await asyncio.to_thread(CliRunner().invoke, nlu_cli, ["export", "--out", str(out)],
                                     env={"DATABASE_URL": settings.database_url})
    assert result.exit_code == 0, result.output
    assert "wrote 2 accepted example(s)" in result.output
    assert out.read_text(encoding="utf-8") == downloaded

    models = tmp_path / "models"
    trained = await asyncio.to_thread(
        CliRunner().invoke, nlu_cli, ["train", "--with-accepted", "--data", str(TRAINING_DATA),
                                      "--model-dir", str(models)],
        env={"DATABASE_URL": settings.database_url})
    assert trained.exit_code == 0, trained.output
    assert "2 accepted)" in trained.output
    (version,) = [p.name for p in models.iterdir() if p.is_dir()]
    assert read_metadata(models, version)["details"]["accepted"] == 2


async def test_a_review_can_be_undone_and_the_message_returns_to_the_inbox(
    console: Container, logged_in: LoggedIn, messages: dict[str, int]
) -> None:
    client, token, _ = await logged_in(Role.TRAINER)
    await client.post(f"/console/trainer/messages/{messages['handed']}/accept",
                      data={"csrf_token": token, "intent": "request_agent"})
    page = (await client.get(INBOX)).text
    assert f'data-reviewed="{messages["handed"]}"' in page and "Recently reviewed" in page
    assert str(messages["handed"]) not in _items(page)
    response = await client.post(f"/console/trainer/messages/{messages['handed']}/reopen",
                                 data={"csrf_token": token})
    assert response.headers["location"] == f"{INBOX}?notice=reopened"
    assert str(messages["handed"]) in _items((await client.get(INBOX)).text)
    async with console.sessions() as session:
        assert await session.scalar(select(TrainingExample)) is None
        reopened = await session.scalar(select(AuditEvent.action).where(
            AuditEvent.action == "training_example.reopened"))
    assert reopened == "training_example.reopened"
    again = await client.post(f"/console/trainer/messages/{messages['handed']}/reopen",
                              data={"csrf_token": token})
    assert again.headers["location"] == f"{INBOX}?notice=not_found"


async def test_identity_answers_stay_out_of_the_inbox_and_cannot_be_corrected(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    # A locked-out verification hands off after a date of birth: the last message before the
    # handoff is that answer, which the bot never read for an intent.
    cid = await seed("how much do i owe", "01/03/1963", intent=None, confidence=None)
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "identity_failed", now=NOW)
        dob = await session.scalar(select(Message.id).where(Message.text == "01/03/1963"))
    agent, token, _ = await logged_in(Role.AGENT, "agent@example.com")
    refused = await agent.post(f"/console/messages/{dob}/intent",
                               data={"csrf_token": token, "intent": "greet"})
    assert "notice=not_read" in refused.headers["location"]
    trainer, _, _ = await logged_in(Role.TRAINER, "trainer@example.com")
    page = (await trainer.get(INBOX)).text
    assert "01/03/1963" not in page and str(dob) not in _items(page)
    async with console.sessions() as session:
        assert await session.scalar(select(IntentCorrection)) is None


async def test_trainers_see_masked_messages_but_never_the_conversation(
    logged_in: LoggedIn, messages: dict[str, int], console: Container
) -> None:
    client, _, _ = await logged_in(Role.TRAINER)
    page = (await client.get(INBOX)).text
    assert "/console/conversations/" not in page
    async with console.sessions() as session:
        cid = await session.scalar(select(Message.conversation_id).where(
            Message.id == messages["low"]))
    response = await client.get(f"/console/conversations/{cid}")
    assert response.status_code == 403 and "305-555-0164" not in response.text
