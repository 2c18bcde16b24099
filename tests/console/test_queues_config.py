"""The queues file: routing rules and targets, and errors that name the file, item and fix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.services.queues import QueueConfigError, load_queues, parse_queues


def test_the_shipped_file_covers_every_team() -> None:
    config = load_queues()
    assert set(config.names) == {"legal", "complaints", "disputes", "hardship", "payments",
                                 "approvals", "negotiation", "verification", "unmatched",
                                 "general"}
    assert config.default.name == "general"
    assert config.get("legal").target == timedelta(minutes=30)
    assert config.route("bankruptcy").name == "legal"
    assert config.route("never-heard-of-it").name == "general"


@pytest.mark.parametrize(("raw", "fragment"), [
    ({}, "top-level `queues:`"),
    ({"queues": {"a": {"target_minutes": 5, "reasons": ["x"]}}}, "exactly one queue"),
    ({"queues": {"a": {"target_minutes": 0, "default": True}}}, "queue 'a': `target_minutes`"),
    ({"queues": {"a": {"target_minutes": 5, "default": True, "reasons": "x"}}}, "`reasons`"),
    ({"queues": {"a": {"target_minutes": 5, "default": True, "reasons": ["x"]},
                 "b": {"target_minutes": 5, "reasons": ["x"]}}}, "reason 'x' is routed to both"),
])
def test_mistakes_are_named(raw: object, fragment: str) -> None:
    with pytest.raises(QueueConfigError) as raised:
        parse_queues(raw, source="queues.yml")
    assert str(raised.value).startswith("queues.yml:") and fragment in str(raised.value)
