"""The production-like topology (compose, Dockerfile, .env.example) checked against Settings."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from sqlalchemy.engine import make_url

from backend.db.engine import normalize_url
from backend.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
NOT_SETTINGS = re.compile(r"^(PYTHON|PIP_|MPLCONFIGDIR$)")


def setting_names() -> set[str]:
    """The environment name of every Settings field, as pydantic-settings reads them."""
    prefix = Settings.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper() for name in Settings.model_fields}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """Dockerfile instructions, one per string, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [i.strip() for i in re.split(r"\n(?=[A-Z]+\s)", "\n".join(lines).replace("\\\n", " "))]


def _instruction(dockerfile: list[str], name: str) -> list[str]:
    return [line[len(name) :].strip() for line in dockerfile if line.startswith(f"{name} ")]


def _entrypoint(dockerfile: list[str]) -> list[str]:
    (raw,) = _instruction(dockerfile, "ENTRYPOINT")
    return json.loads(raw)


def _argv(service: dict[str, Any], dockerfile: list[str]) -> list[str]:
    """What the container runs: the service's entrypoint (or the image's) plus its command."""
    entrypoint = service.get("entrypoint", _entrypoint(dockerfile))
    command = service.get("command", [])
    if isinstance(command, str):
        command = shlex.split(command)
    return [*entrypoint, *command]


def _shell(service: dict[str, Any], dockerfile: list[str]) -> str:
    return " ".join(_argv(service, dockerfile))


def _env_example() -> list[tuple[str, str]]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return [(m[1], m[2]) for m in map(ENV_LINE.match, lines) if m]


def test_compose_has_the_topology(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"api", "worker", "postgres", "redis", "rasa"} <= set(services)
    assert services["rasa"]["profiles"] == ["rasa"]
    assert all("profiles" not in services[name] for name in ("api", "worker", "postgres", "redis"))
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"


def test_api_migrates_before_serving_on_all_interfaces(
    compose: dict[str, Any], dockerfile: list[str]
) -> None:
    command = _shell(compose["services"]["api"], dockerfile)
    assert "parley db upgrade" in command and "parley serve" in command
    assert command.index("parley db upgrade") < command.index("parley serve")
    assert "&&" in command  # a failed migration must stop the server from starting
    assert "--host 0.0.0.0" in command


def test_worker_runs_parley_worker(compose: dict[str, Any], dockerfile: list[str]) -> None:
    assert _argv(compose["services"]["worker"], dockerfile) == ["parley", "worker"]


def test_services_have_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    checks = {name: " ".join(services[name]["healthcheck"]["test"]) for name in services
              if "healthcheck" in services[name]}
    assert "/health" in checks["api"]
    assert "pg_isready" in checks["postgres"]
    assert "redis-cli" in checks["redis"] and "ping" in checks["redis"]
    assert "5005" in checks["rasa"]


def test_api_and_worker_wait_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, needs in (("api", {"postgres", "redis"}), ("worker", {"api", "postgres", "redis"})):
        depends = services[name]["depends_on"]
        assert set(depends) == needs
        assert {d["condition"] for d in depends.values()} == {"service_healthy"}
        assert all("healthcheck" in services[dep] for dep in depends)


def test_app_services_read_an_optional_env_file(compose: dict[str, Any]) -> None:
    for name in ("api", "worker"):
        assert compose["services"][name]["env_file"] == [{"path": ".env", "required": False}]


def test_app_environment_uses_only_real_settings(compose: dict[str, Any]) -> None:
    names = setting_names()
    for name in ("api", "worker"):
        environment = compose["services"][name]["environment"]
        assert set(environment) <= names, set(environment) - names
        interpolated = {v for value in environment.values() for v in INTERPOLATION.findall(value)}
        assert interpolated <= names, interpolated - names


def test_service_urls_reach_the_compose_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    pg = services["postgres"]["environment"]
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"] == "postgresql://parley:parley@postgres:5432/parley"
        database = make_url(normalize_url(env["DATABASE_URL"]))
        assert database.drivername == "postgresql+asyncpg"
        assert (database.host, database.username, database.password, database.database) == (
            "postgres", pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"])
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        settings = Settings(_env_file=None, **{k.lower(): v for k, v in env.items()
                                               if "$" not in v})  # type: ignore[call-arg]
        assert not settings.is_sqlite


def test_data_is_kept_in_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])
    assert "--appendonly" in services["redis"]["command"]
    assert services["redis"]["command"][services["redis"]["command"].index("--appendonly") + 1] \
        == "yes"
    named = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])
             if not v.startswith(".")}
    assert named <= set(compose["volumes"])


def test_api_and_worker_share_models_and_import_files(
    compose: dict[str, Any], dockerfile: list[str]
) -> None:
    """A model promoted through the api must reach the worker's turns, and an uploaded import
    file the worker that runs it: both live under one volume both services mount."""
    env = dict(
        item.split("=", 1) for line in _instruction(dockerfile, "ENV") for item in line.split()
    )
    shared = [set(compose["services"][name].get("volumes", [])) for name in ("api", "worker")]
    mounts = {v.split(":")[1] for v in shared[0] & shared[1]}
    assert any(env["NLU_MODEL_DIR"].startswith(mount + "/") for mount in mounts)
    workdir = _instruction(dockerfile, "WORKDIR")[-1]  # IMPORT_DIR is relative: var/imports
    assert f"{workdir}/var" in mounts


def test_rasa_trains_on_the_shipped_training_data(compose: dict[str, Any]) -> None:
    rasa = compose["services"]["rasa"]
    assert rasa["image"] == "rasa/rasa:3.6.21-full"
    command = " ".join(rasa["command"])
    assert "rasa train nlu" in command and "run --enable-api" in command
    assert command.index("rasa train") < command.index("rasa run")
    default_data = Settings.model_fields["nlu_training_data"].default.relative_to(ROOT)
    mounts = {v.split(":")[0]: v.split(":")[1] for v in rasa["volumes"]}
    assert mounts[f"./{default_data}"] in command
    assert (ROOT / default_data).is_dir()


def test_switching_to_rasa_is_documented_with_real_settings() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "NLU_BACKEND=rasa" in text and "RASA_URL=http://rasa:5005" in text
    assert {"NLU_BACKEND", "RASA_URL"} <= setting_names()
    assert "rasa" in get_args(Settings.model_fields["nlu_backend"].annotation)


def test_env_example_lists_every_setting_once_and_nothing_else() -> None:
    names = [name for name, _ in _env_example()]
    assert len(names) == len(set(names)), "a key is listed twice"
    assert set(names) == setting_names()


def test_the_readme_configuration_table_names_every_setting() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("## Configuration"):text.index("## The command line")]
    named = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    assert setting_names() <= named, sorted(setting_names() - named)


def test_env_example_values_are_valid_and_safe() -> None:
    values = {name.lower(): value for name, value in _env_example()}
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    assert settings.parley_env != "production"
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(_env_file=None, **{**values, "parley_env": "production"})  # type: ignore[call-arg]


def test_env_example_comments_every_key() -> None:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if ENV_LINE.match(line) and index and lines[index - 1].strip() in ("", "#"):
            raise AssertionError(f".env.example line {index + 1}: {line!r} has no comment")


def test_dockerfile_runs_the_declared_console_script(dockerfile: list[str]) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    script = _entrypoint(dockerfile)[0]
    assert script in pyproject["project"]["scripts"]
    assert json.loads(_instruction(dockerfile, "CMD")[0])[0] == "serve"


def test_dockerfile_builds_a_non_root_image_from_pyproject(dockerfile: list[str]) -> None:
    assert _instruction(dockerfile, "FROM") == ["python:3.11-slim"]
    users = _instruction(dockerfile, "USER")
    assert users and users[-1] not in {"root", "0"}
    assert any(re.search(r"pip install (--[\w-]+ )*\.(\s|$)", run)
               for run in _instruction(dockerfile, "RUN"))
    copied = {c.split()[0] for c in _instruction(dockerfile, "COPY")}
    assert {"pyproject.toml", "nlu/training_data", "backend/policies"} <= copied
    assert all((ROOT / source).exists() for source in copied)


def test_dockerfile_env_names_are_settings(dockerfile: list[str]) -> None:
    declared = {pair.split("=")[0] for env in _instruction(dockerfile, "ENV")
                for pair in env.split()}
    settings = {name for name in declared if not NOT_SETTINGS.match(name)}
    assert settings and settings <= setting_names(), settings - setting_names()
