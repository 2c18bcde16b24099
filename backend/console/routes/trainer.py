"""The trainers' inbox: review debtor messages worth a look and keep them as training data."""

from __future__ import annotations

import asyncio
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.deps import ContainerDep
from backend.console import actions
from backend.console.deps import ConsoleRoute, Viewer, back_to, render, viewer_dep
from backend.console.notices import Notice, notice_for
from backend.console.permissions import Perm
from backend.container import Container
from backend.db.models import TrainingExample
from nlu.accepted import ACCEPTED_FILE, ExampleRefused, to_yaml
from nlu.dataset import Example
from nlu.extractors import extract_entities
from nlu.masking import Masked, mask_pii
from nlu.reader import read_training_data
from nlu.types import ENTITY_TYPES, INTENTS

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Training = Annotated[Viewer, viewer_dep(Perm.TRAINER_INBOX)]
INBOX = "/console/trainer"
ENTITY_ROWS = 3
NOTICES = {
    "accepted": Notice("ok", "Saved as a training example (personal data masked)."),
    "dismissed": Notice("ok", "Dismissed: the message will not be used for training."),
    "not_in_inbox": Notice("error", "That message is not waiting for review (someone may have "
                                    "reviewed it first)."),
    "reopened": Notice("ok", "Review undone: the example is out of the training data."),
    "bad_example": Notice("error", "Not saved: pick a known intent and copy each entity's words "
                                   "exactly from the (masked) text."),
    "label_conflict": Notice("error", "Not saved: this text is already accepted under another "
                                      "intent. Undo that review first."),
}
REASONS = {"low_confidence": "low confidence", "corrected": "agent corrected",
           "handoff": "before a handoff"}


@dataclass(frozen=True)
class InboxItem:
    """What the inbox shows for one message: the masked text and the suggested labels."""

    entry: actions.InboxEntry
    masked: Masked
    intent: str
    entities: tuple[tuple[str, str], ...]


def _item(entry: actions.InboxEntry, ranker: Any) -> InboxItem:
    message = entry.message
    masked = mask_pii(message.text, [entry.debtor_name] if entry.debtor_name else [],
                      today=message.created_at.date())
    found = extract_entities(masked.text, reference_time=message.created_at)
    return InboxItem(entry, masked, _suggested_intent(entry, ranker),
                     tuple((e.entity, e.text) for e in found if e.entity in ENTITY_TYPES))


def _suggested_intent(entry: actions.InboxEntry, ranker: Any) -> str:
    """The agent's label; else, for a low-confidence reading, the live model's best guess."""
    if entry.correction is not None:
        return entry.correction.corrected_intent
    if "low_confidence" in entry.reasons and ranker is not None:
        return str(ranker.rank(entry.message.text)[0].name)
    intent = entry.message.intent
    return intent if intent in INTENTS else "out_of_scope"


def _ranker(container: Container) -> Any:
    """The embedded interpreter, when this process has one (its `rank` is about a millisecond)."""
    interpreter = getattr(container.interpreter, "fallback", container.interpreter)
    return interpreter if hasattr(interpreter, "rank") else None


def _threshold(container: Container) -> float:
    return float(container.settings.nlu_confidence_threshold)


def _notice(code: str | None, label: str | None, other: int | None) -> Notice | None:
    """The notice to show; a label conflict names the other intent (known intents only)."""
    if code == "label_conflict" and label in INTENTS:
        where = f" (message {other})" if other is not None else ""
        return Notice("error", f"Not saved: this text is already accepted as {label}{where}. "
                               f"Undo that review first, or confirm it as {label}.")
    return NOTICES.get(code or "") or notice_for(code)


async def _conflict_notice(container: Container, db: AsyncSession, other: int | None,
                           where: str | None) -> Notice | None:
    """A label conflict's notice naming the example it clashes with, looked up (never taken
    from the link): an accepted one by its message, a shipped one by its file and line."""
    if other is not None:
        row = await db.scalar(select(TrainingExample).where(
            TrainingExample.message_id == other, TrainingExample.status == "accepted"))
        if row is None or row.intent not in INTENTS:
            return None
        return Notice("error", f"Not saved: this text, or one a typo or punctuation apart, is "
                               f"already accepted as {row.intent} (message {other}): "
                               f"“{mask_pii(row.text).text}”. Undo that review first, or "
                               f"confirm it as {row.intent}.")
    shipped = await _shipped_at(container, where) if where else None
    if shipped is None:
        return None
    return Notice("error", f"Not saved: the shipped training data has “{shipped.text}” as "
                           f"{shipped.intent} ({shipped.file}:{shipped.line}), the same text "
                           f"or one a typo or punctuation apart. Confirm it as "
                           f"{shipped.intent}, or dismiss the message.")


async def _shipped(container: Container) -> tuple[Example, ...]:
    """The training data the next training reads besides the accepted examples."""
    folder = container.settings.nlu_training_data
    return await asyncio.to_thread(lambda: _read_shipped(folder, _stamp(folder)))


def _stamp(folder: Path) -> tuple[tuple[str, int], ...]:
    """What changes when the data does (read again then, not on every review)."""
    return tuple(sorted((str(p), p.stat().st_mtime_ns)
                        for pattern in ("*.yml", "*.yaml") for p in folder.rglob(pattern)))


@functools.lru_cache(maxsize=2)
def _read_shipped(folder: Path, stamp: tuple[tuple[str, int], ...]) -> tuple[Example, ...]:
    data, _ = read_training_data(folder)
    return tuple(data.examples)


def _where(container: Container, example: Example) -> str:
    """A shipped example's place as the redirect carries it: file under the data, and line."""
    return f"{os.path.relpath(example.file, container.settings.nlu_training_data)}:{example.line}"


async def _shipped_at(container: Container, where: str) -> Example | None:
    for example in await _shipped(container):
        if _where(container, example) == where:
            return example
    return None


async def _reviewed(container: Container, message_id: int) -> bool:
    async with container.sessions() as db:
        found = await db.scalar(select(TrainingExample.id)
                                .where(TrainingExample.message_id == message_id))
    return found is not None


@router.get("/trainer")
async def inbox(
    request: Request, container: ContainerDep, viewer: Training, notice: str | None = None,
    label: str | None = None, other: int | None = None, reason: str | None = None,
) -> Response:
    """Messages waiting for review, each with one-click confirm and a relabel form."""
    async with container.sessions() as db:
        entries = await actions.trainer_inbox(db, _threshold(container))
        accepted = await actions.count_accepted(db)
        recent = await actions.recent_reviews(db)
        conflict = (await _conflict_notice(container, db, other, reason)
                    if notice == "label_conflict" else None)
    ranker = _ranker(container)
    return render(request, "trainer.html", {
        "items": [_item(e, ranker) for e in entries], "accepted": accepted, "intents": INTENTS,
        "recent": recent,
        "entity_types": ENTITY_TYPES, "entity_rows": ENTITY_ROWS, "reasons": REASONS,
        "threshold": _threshold(container),
        "notice": conflict or _notice(notice, label, other),
    })


@router.post("/trainer/messages/{message_id}/accept")
async def accept(
    message_id: int, container: ContainerDep, viewer: Training,
    intent: Annotated[str, Form()], text: Annotated[str, Form()] = "",
    entity: Annotated[list[str] | None, Form()] = None,
    words: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Confirm or relabel: save the (masked) message with its intent and entity spans."""
    pairs = list(zip(entity or [], words or [], strict=False))
    shipped = await _shipped(container)
    try:
        async with container.sessions.begin() as db:
            await actions.accept_example(
                db, message_id, intent=intent, text=text, entities=pairs,
                reviewer_id=viewer.id, threshold=_threshold(container),
                now=container.clock.now(), shipped=shipped)
    except actions.LabelConflict as conflict:
        where = None if conflict.message_id is not None else _where(container, conflict.other)
        return back_to(INBOX, notice=conflict.code, label=conflict.intent,
                       other=conflict.message_id, reason=where)
    except actions.ActionRefused as refused:
        return back_to(INBOX, notice=refused.code)
    except IntegrityError as error:
        return await _reviewed_first(container, message_id, error)
    return back_to(INBOX, notice="accepted")


async def _reviewed_first(container: Container, message_id: int,
                          error: IntegrityError) -> Response:
    """Another review of the message was saved first (by a writer that skipped the review
    lock); any other integrity error is a bug and stays one."""
    if not await _reviewed(container, message_id):
        raise error
    return back_to(INBOX, notice="not_in_inbox")


@router.post("/trainer/messages/{message_id}/dismiss")
async def dismiss(message_id: int, container: ContainerDep, viewer: Training) -> Response:
    """Not worth training on: take the message off the inbox."""
    try:
        async with container.sessions.begin() as db:
            await actions.dismiss_example(db, message_id, reviewer_id=viewer.id,
                                          threshold=_threshold(container),
                                          now=container.clock.now())
    except actions.ActionRefused as refused:
        return back_to(INBOX, notice=refused.code)
    except IntegrityError as error:
        return await _reviewed_first(container, message_id, error)
    return back_to(INBOX, notice="dismissed")


@router.post("/trainer/messages/{message_id}/reopen")
async def reopen(message_id: int, container: ContainerDep, viewer: Training) -> Response:
    """Undo a confirm, relabel or dismiss (the next training leaves the example out)."""
    try:
        async with container.sessions.begin() as db:
            await actions.reopen_example(db, message_id, actor=viewer.actor,
                                         now=container.clock.now())
    except actions.ActionRefused as refused:
        return back_to(INBOX, notice=refused.code)
    return back_to(INBOX, notice="reopened")


@router.get("/trainer/accepted.yml")
async def download(container: ContainerDep, viewer: Training) -> Response:
    """The accepted examples as Rasa YAML (what `parley nlu export` writes); refused while a
    text is accepted under two intents."""
    async with container.sessions() as db:
        examples = await actions.accepted_examples(db)
    try:
        body = to_yaml(examples)
    except ExampleRefused as refused:
        return Response(f"Not exported: {refused}\n", status_code=409, media_type="text/plain")
    return Response(body, media_type="application/x-yaml", headers={
        "Content-Disposition": f'attachment; filename="{ACCEPTED_FILE}"'})


@router.post("/trainer/{correction_id}/reviewed")
async def reviewed(correction_id: int, container: ContainerDep, viewer: Training) -> Response:
    """Take an agent's correction off the inbox."""
    try:
        async with container.sessions.begin() as db:
            await actions.mark_reviewed(db, correction_id, actor=viewer.actor,
                                        now=container.clock.now())
    except actions.ActionRefused as refused:
        return back_to(INBOX, notice=refused.code)
    return back_to(INBOX, notice="reviewed")
