"""Loading a strategy: unknown queues and empty segment ranges refused, only real errors shown."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from backend.cli.main import app as parley
from backend.services.queues import load_queues
from backend.workflow.strategy import (
    DEFAULT_STRATEGY_PATH,
    StrategyError,
    parse_strategy,
    parse_strategy_text,
)

DEFAULT = DEFAULT_STRATEGY_PATH.read_text(encoding="utf-8")


def _refused(text: str) -> str:
    with pytest.raises(StrategyError) as caught:
        parse_strategy_text(text, "default.yml")
    return str(caught.value)


def test_an_unknown_handoff_queue_is_refused_with_the_step_and_the_known_queues() -> None:
    assert "queue: general" in DEFAULT
    message = _refused(DEFAULT.replace("queue: general", "queue: nonexistent_queue"))
    assert message.startswith("default.yml: segments.0.steps.4.queue: ")
    assert "'nonexistent_queue' is not a handoff queue" in message
    assert all(name in message for name in load_queues().names)
    data = yaml.safe_load(DEFAULT)
    data["events"].append({"id": "broken-call", "anchor": "promise_broken", "offset_days": 2,
                           "action": "handoff", "queue": "colections"})
    with pytest.raises(StrategyError, match=r"events\.\d+\.queue: queue 'colections'"):
        parse_strategy(data)
    assert parse_strategy(data, queues=["colections", "general"]).events[-1].queue == "colections"


def test_cli_load_refuses_an_unknown_queue(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(DEFAULT.replace("queue: general", "queue: nonexistent_queue"),
                   encoding="utf-8")
    refused = CliRunner().invoke(parley, ["strategy", "load", str(bad)])
    assert refused.exit_code == 1
    assert "segments.0.steps.4.queue" in refused.output and "general" in refused.output


@pytest.mark.parametrize(("extra", "words"), [
    ("min_days_past_due: 200", "min_days_past_due (200) is above max_days_past_due (120)"),
    ("min_balance: 900\n    max_balance: 100", "min_balance (900) is above max_balance (100)"),
])
def test_a_segment_that_can_match_no_account_is_refused(extra: str, words: str) -> None:
    text = DEFAULT.replace("max_days_past_due: 120", f"max_days_past_due: 120\n    {extra}", 1)
    message = _refused(text)
    assert message.startswith("default.yml: segments.0: ") and words in message


def test_only_the_real_errors_are_reported() -> None:
    message = _refused(DEFAULT.replace("weight: 50\n", "weight: 40\n", 1))
    assert message == ("default.yml: segments.0.steps.1.variants: "
                       "variant weights must add up to 100")
    assert "at least one segment" in _refused("name: empty\nsegments: []\n")


def test_the_opt_out_hint_may_be_in_any_case() -> None:
    lower = DEFAULT.replace("Reply STOP to stop messages here.", "reply stop to opt out", 1)
    assert parse_strategy_text(lower).segments[0].steps[0].template["en"].endswith("opt out")
    without = DEFAULT.replace("Reply STOP to stop messages here.", "Thanks.", 1)
    assert "must tell how to opt out" in _refused(without)
