"""What each console role may do; every console route names the permission it needs."""

from __future__ import annotations

from enum import StrEnum

from backend.db.models.enums import Role


class Perm(StrEnum):
    """One thing a console user can do."""

    VIEW_QUEUE = "view_queue"
    CLAIM = "claim"
    VIEW_CONVERSATION = "view_conversation"
    REPLY = "reply"
    NOTE = "note"
    ACCOUNT_ACTION = "account_action"  # promise, plan, payment link
    HANDBACK = "handback"  # resolve, return to the bot
    OVERRIDE = "override"  # act on a conversation another agent owns, or still queued
    STOP_STATE = "stop_state"
    CORRECT_INTENT = "correct_intent"
    TRAINER_INBOX = "trainer_inbox"
    MANAGE_AGENTS = "manage_agents"
    LIVE = "live"
    VIEW_REPORTS = "view_reports"  # the supervisors' dashboards
    TRAIN_MODEL = "train_model"  # retrain, compare, promote and roll back the NLU model


_AGENT = frozenset({
    Perm.VIEW_QUEUE, Perm.CLAIM, Perm.VIEW_CONVERSATION, Perm.REPLY, Perm.NOTE,
    Perm.ACCOUNT_ACTION, Perm.HANDBACK, Perm.CORRECT_INTENT, Perm.LIVE,
})
ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.AGENT: _AGENT,
    Role.SUPERVISOR: _AGENT | {Perm.OVERRIDE, Perm.STOP_STATE, Perm.VIEW_REPORTS},
    # Trainers see masked messages only (the inbox), never a conversation with its account.
    Role.TRAINER: frozenset({Perm.TRAINER_INBOX, Perm.LIVE, Perm.TRAIN_MODEL}),
    Role.ADMIN: frozenset(Perm),
}


def allowed(role: str, perm: Perm) -> bool:
    """True when `role` carries `perm` (unknown roles carry nothing)."""
    try:
        return perm in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


def home_path(role: str) -> str:
    """Where a user lands after login."""
    if allowed(role, Perm.VIEW_QUEUE):
        return "/console/queue"
    if allowed(role, Perm.TRAINER_INBOX):
        return "/console/trainer"
    return "/console/login"
