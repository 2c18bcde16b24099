"""Loading policies from YAML or JSON with errors that name the file, the field and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from backend.services.policy.model import Policy

DEFAULT_FILE = "default.yml"


class PolicyError(ValueError):
    """A policy that cannot be used, with every problem listed."""

    def __init__(self, source: str, problems: list[str], fields: list[str] | None = None
                 ) -> None:
        self.source = source
        self.problems = problems
        # The dotted paths at fault with what is wrong with each, never the values: what a log
        # may hold ("verification.min_factors (greater_than_equal)").
        self.fields = fields if fields is not None else ["(top)"]
        super().__init__(f"{source}: invalid policy: " + "; ".join(problems))


def problems_of(error: ValidationError) -> list[str]:
    """One readable line per pydantic error: `plan.max_months: Input should be ...`."""
    return [
        f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg'].removeprefix('Value error, ')}"
        for e in error.errors()
    ]


def fields_of(error: ValidationError) -> list[str]:
    """One `path (error type)` per pydantic error, without the input (a log may hold it)."""
    return [f"{'.'.join(str(p) for p in e['loc']) or '(top)'} ({e['type']})"
            for e in error.errors()]


def parse_policy(data: Any, source: str = "policy") -> Policy:
    """A validated Policy from plain data."""
    if not isinstance(data, dict):
        raise PolicyError(source, ["the policy must be a mapping of sections"])
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(source, problems_of(exc), fields_of(exc)) from exc


def parse_whole_policy(data: Any, source: str = "policy") -> Policy:
    """A validated Policy from data that names every field, as a replacement must.

    A field left out would take the code's default, not the one in force: a PUT of
    `{"plan": {"max_months": 6}}` would quietly turn settlements off.
    """
    if isinstance(data, dict) and (missing := missing_fields(Policy, data)):
        raise PolicyError(source, [
            f"{path}: missing; a replacement names every field (GET the policy, edit it, "
            "PUT it back)" for path in missing], [f"{path} (missing)" for path in missing])
    return parse_policy(data, source)


def missing_fields(model: type[BaseModel], data: dict[str, Any], prefix: str = "") -> list[str]:
    """The dotted paths of `model`'s fields that `data` leaves out, sections included."""
    missing = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        if name not in data:
            missing.append(path)
            continue
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel) and isinstance(
                data[name], dict):
            missing.extend(missing_fields(section, data[name], f"{path}."))
    return missing


def load_policy_file(path: Path) -> Policy:
    """Read and validate one YAML policy file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PolicyError(str(path), [f"not valid YAML: {exc}"]) from exc
    except OSError as exc:
        raise PolicyError(str(path), [f"cannot read: {exc.strerror}"]) from exc
    return parse_policy(data or {}, str(path))


def load_default(policy_dir: Path) -> Policy:
    """The default policy from `policy_dir`; a PolicyError naming the file when it is absent."""
    path = policy_dir / DEFAULT_FILE
    if not path.is_file():
        # The built-in Policy() is not the shipped policy (no approval limits, settlements
        # off): negotiating on it because a file is misnamed must not start silently.
        raise PolicyError(str(path), [_missing_default(policy_dir)])
    return load_policy_file(path)


def _missing_default(policy_dir: Path) -> str:
    misnamed = policy_dir / "default.yaml"
    if misnamed.is_file():
        return f"missing; found {misnamed}: rename it to {DEFAULT_FILE}"
    return f"missing; POLICY_DIR must hold the default policy as {DEFAULT_FILE}"
