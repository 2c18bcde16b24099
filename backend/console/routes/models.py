"""The trainers' model page: retrain, compare a candidate with the live model, promote."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from backend.api.deps import ContainerDep
from backend.console import actions
from backend.console.deps import ConsoleRoute, Viewer, back_to, render, viewer_dep
from backend.console.notices import Notice
from backend.console.permissions import Perm
from backend.nlu_wiring import follow_live_model, model_service
from backend.services import audit
from nlu.accepted import label_conflicts
from nlu.comparison import Comparison
from nlu.promotion import PromotionRefused
from nlu.training import TrainingDataError

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Trainer = Annotated[Viewer, viewer_dep(Perm.TRAIN_MODEL)]
PAGE = "/console/models"
MAX_PROBLEMS = 20
NOTICES = {
    "trained": Notice("ok", "Candidate trained and compared with the live model below."),
    "promoted": Notice("ok", "Promoted: the candidate is the live model now."),
    "refused": Notice("error", "Not promoted: the candidate is worse overall than the live "
                               "model (see the comparison)."),
    "already_live": Notice("warn", "Not promoted: this version is already live."),
    "not_comparable": Notice("error", "Not promoted: that version cannot be compared with the "
                                      "live model (its held-out data is missing)."),
    "rolled_back": Notice("ok", "Rolled back: the previous model is live again."),
    "no_previous": Notice("error", "There is no previous live model to roll back to."),
    "busy": Notice("warn", "A training is already running; try again when it ends."),
    "no_version": Notice("error", "Pick a model version."),
}


async def _comparison(container: ContainerDep, version: str | None,
                      state: dict[str, Any]) -> Comparison | None:
    """The chosen version (default: the newest candidate) against the live model."""
    comparable = [v["version"] for v in state["versions"] if v.get("evaluation")]
    candidates = [v for v in comparable if v != state["live"]]
    chosen = version if version in comparable else (candidates[0] if candidates else None)
    if chosen is None:
        return None
    try:
        return await model_service(container).compare(chosen)
    except FileNotFoundError:  # removed from disk while the page was being built
        return None


@router.get("/models")
async def models_page(
    request: Request, container: ContainerDep, viewer: Trainer, notice: str | None = None,
    version: str | None = None,
) -> Response:
    """The live model, the candidates, and a candidate compared with the live model."""
    return await _page(request, container, version, NOTICES.get(notice or ""), [])


async def _page(request: Request, container: ContainerDep, version: str | None,
                notice: Notice | None, problems: list[str], status_code: int = 200) -> Response:
    state = model_service(container).state()
    async with container.sessions() as db:
        accepted = await actions.count_accepted(db)
    return render(request, "models.html", {
        **state, "comparison": await _comparison(container, version, state),
        "accepted": accepted, "notice": notice, "problems": problems,
    }, status_code=status_code)


@router.post("/models/train")
async def train(request: Request, container: ContainerDep, viewer: Trainer) -> Response:
    """Train a candidate on the shipped data plus the accepted examples (off the event loop)."""
    service = model_service(container)
    if service.training.locked():
        return back_to(PAGE, notice="busy")
    now = container.clock.now()
    async with container.sessions() as db:
        accepted = await actions.accepted_examples(db)
    conflicts = label_conflicts(accepted)
    if conflicts:
        notice = Notice("error", f"Not trained: {len(conflicts)} text(s) accepted under two "
                                 "intents.")
        return await _page(request, container, None, notice, conflicts[:MAX_PROBLEMS],
                           status_code=422)
    try:
        model, _ = await service.train(accepted, now=now, by=viewer.actor)
    except TrainingDataError as error:
        problems = [str(p) for p in error.problems[:MAX_PROBLEMS]]
        notice = Notice("error", f"Not trained: {len(error.problems)} problem(s) in the data.")
        return await _page(request, container, None, notice, problems, status_code=422)
    await _audit(container, viewer, "nlu_model.trained", model.version,
                 {"data_hash": model.data_hash, "accepted": len(accepted)})
    return back_to(PAGE, notice="trained", version=model.version)


@router.post("/models/promote")
async def promote(
    container: ContainerDep, viewer: Trainer, version: Annotated[str, Form()] = "",
) -> Response:
    """Make the candidate live if it is not worse overall; refused otherwise."""
    if not version:
        return back_to(PAGE, notice="no_version")
    try:
        comparison = await model_service(container).promote(
            version, now=container.clock.now(), by=viewer.actor)
    except PromotionRefused as refused:
        return back_to(PAGE, notice=_refusal(refused), version=version)
    await follow_live_model(container)
    await _audit(container, viewer, "nlu_model.promoted", version,
                 {"replaced": comparison.live, "reason": comparison.reason})
    return back_to(PAGE, notice="promoted")


def _refusal(refused: PromotionRefused) -> str:
    """The notice saying why a promotion was refused (the reason `nlu.promotion` gave)."""
    comparison = refused.comparison
    if comparison is None:
        return "no_version" if str(refused).startswith("no model version") else "not_comparable"
    return "already_live" if comparison.candidate == comparison.live else "refused"


@router.post("/models/rollback")
async def rollback(container: ContainerDep, viewer: Trainer) -> Response:
    """Make the previously live model live again."""
    try:
        version = await model_service(container).rollback(now=container.clock.now(),
                                                          by=viewer.actor)
    except PromotionRefused:
        return back_to(PAGE, notice="no_previous")
    await follow_live_model(container)
    await _audit(container, viewer, "nlu_model.rolled_back", version, {})
    return back_to(PAGE, notice="rolled_back")


async def _audit(container: ContainerDep, viewer: Viewer, action: str, version: str,
                 data: dict[str, object]) -> None:
    async with container.sessions.begin() as db:
        await audit.record(db, occurred_at=container.clock.now(), actor=viewer.actor,
                           action=action, subject_type="nlu_model", subject_id=version,
                           data=data)
