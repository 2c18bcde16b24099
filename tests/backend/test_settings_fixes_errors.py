"""A refused setting or an unreachable database is one clear line per problem, never a secret."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from backend.cli.main import app
from backend.settings import Settings

runner = CliRunner()
SECRET_KEY = "ab" * 32
WATCHED = ("PARLEY_ENV", "PARLEY_SANDBOX", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "LOG_LEVEL",
           "NLU_BACKEND", "RASA_URL", "TWILIO_AUTH_TOKEN", "WHATSAPP_ACCESS_TOKEN",
           "PUBLIC_BASE_URL", "PORT", "RASA_TIMEOUT_SECONDS", "TWILIO_API_URL", "POLICY_DIR",
           "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_PHONE_NUMBER_ID")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An operator's environment: no .env file, a SQLite file, the variables a test sets."""
    for name in WATCHED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}


def _refused(args: list[str], env: dict[str, str], code: int = 2) -> list[str]:
    """The command's output lines, after checking it failed cleanly with `code`."""
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and "input_value" not in result.output
    return result.output.splitlines()


@pytest.mark.parametrize("args", [["serve"], ["db", "upgrade"], ["apikey", "create"]])
def test_a_half_configured_whatsapp_channel_is_named_without_its_token(
    args: list[str], env: dict[str, str]
) -> None:
    lines = _refused(args, {**env, "PARLEY_ENV": "production", "SECRET_KEY": SECRET_KEY,
                            "TWILIO_AUTH_TOKEN": "twilio-live-token",
                            "WHATSAPP_ACCESS_TOKEN": "EAAGliveToken"})
    [line] = lines
    assert "WHATSAPP_PHONE_NUMBER_ID" in line and "WHATSAPP_VERIFY_TOKEN" in line
    for secret in ("EAAGliveToken", "twilio-live-token", SECRET_KEY, SECRET_KEY[-8:]):
        assert secret not in line


def test_the_app_secret_and_the_secret_key_are_never_printed(env: dict[str, str]) -> None:
    given = {**env, "WHATSAPP_APP_SECRET": "myappsecret123"}
    output = "\n".join(_refused(["db", "upgrade"], given))
    assert "WHATSAPP_ACCESS_TOKEN" in output and "myappsecret123" not in output
    [line] = _refused(["db", "upgrade"], {**env, "PARLEY_ENV": "production",
                                          "SECRET_KEY": SECRET_KEY, "PARLEY_SANDBOX": "true"})
    assert "PARLEY_SANDBOX" in line and SECRET_KEY[-8:] not in line


def test_a_validation_error_does_not_carry_the_values_given() -> None:
    with pytest.raises(ValueError) as refused:
        Settings(_env_file=None, parley_env="production", secret_key=SECRET_KEY,  # type: ignore[call-arg]
                 whatsapp_access_token="EAAGliveToken")
    assert "WHATSAPP_APP_SECRET" in str(refused.value)
    assert "EAAGliveToken" not in str(refused.value) and SECRET_KEY[:12] not in str(refused.value)


def test_every_bad_setting_is_refused_by_any_command_one_line_each(env: dict[str, str]) -> None:
    bad = {**env, "DATABASE_URL": "postgres//bad", "NLU_BACKEND": "rasa", "LOG_LEVEL": "LOUD"}
    lines = _refused(["db", "upgrade"], bad)
    assert len(lines) == 3, lines
    for name, line in zip(("DATABASE_URL", "LOG_LEVEL", "RASA_URL"), lines, strict=True):
        assert name in line
    assert not any("postgres//bad" in line or "LOUD" in line for line in lines)


@pytest.mark.parametrize("setting, value, named", [
    ("DATABASE_URL", "postgres//bad", "DATABASE_URL"),
    ("DATABASE_URL", "mysql://u@h/db", "DATABASE_URL"),
    ("NLU_BACKEND", "rasa", "RASA_URL"),
    ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
    ("PUBLIC_BASE_URL", "notaurl", "PUBLIC_BASE_URL"),  # every portal link would be broken
    ("PUBLIC_BASE_URL", "ftp://parley.example.com", "PUBLIC_BASE_URL"),
    ("PORT", "99999", "PORT"),
    ("PORT", "-1", "PORT"),
    ("REDIS_URL", "foo:bar", "REDIS_URL"),
    ("RASA_TIMEOUT_SECONDS", "0", "RASA_TIMEOUT_SECONDS"),
    ("TWILIO_API_URL", "127.0.0.1:9000", "TWILIO_API_URL"),
])
def test_each_bad_setting_alone_is_refused_before_any_work(
    env: dict[str, str], setting: str, value: str, named: str
) -> None:
    [line] = _refused(["db", "upgrade"], {**env, setting: value})
    assert named in line
    assert not Path("cli.db").exists()


def test_log_levels_are_the_documented_ones_in_any_case() -> None:
    assert Settings(_env_file=None, log_level="debug").log_level == "DEBUG"  # type: ignore[call-arg]
    assert Settings(_env_file=None, nlu_backend="rasa",  # type: ignore[call-arg]
                    rasa_url="http://rasa:5005").rasa_url == "http://rasa:5005"
    assert Settings(_env_file=None, database_url="postgresql://u:p@h:5432/db")  # type: ignore[call-arg]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("args", [["db", "upgrade"], ["apikey", "create"], ["audit", "verify"],
                                  ["serve"]])
def test_an_unreachable_database_is_one_line_naming_where_without_the_password(
    args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_server(*_: object, **__: object) -> None:
        raise AssertionError("served without a database")

    monkeypatch.setattr(uvicorn, "run", no_server)
    port = _closed_port()
    url = f"postgresql://parley:hunter2@127.0.0.1:{port}/parley"
    [line] = _refused(args, {**env, "DATABASE_URL": url}, code=1)
    assert "DATABASE_URL" in line and "127.0.0.1" in line and str(port) in line
    assert "hunter2" not in line


def test_the_reason_never_carries_the_password() -> None:
    from backend.cli.runtime import unreachable_message

    line = unreachable_message("postgresql://u:hunter2@db.internal/x",
                               OSError("auth failed with hunter2"))
    assert "db.internal" in line and "5432" in line and "hunter2" not in line


@pytest.mark.parametrize("text, field", [("plan:\n  max_months: [12\n", "not valid YAML"),
                                         ("promise:\n  max_days_out: -30\n", "max_days_out")])
def test_a_broken_policy_file_stops_serve_with_one_line_naming_it(
    env: dict[str, str], tmp_path: Path, text: str, field: str
) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yml").write_text(text, encoding="utf-8")
    lines = _refused(["serve"], {**env, "POLICY_DIR": str(policies)})
    [line] = [line for line in lines if "invalid policy" in line]
    assert str(policies / "default.yml") in line and field in line


def test_a_policy_folder_that_is_not_there_is_refused(env: dict[str, str], tmp_path: Path
                                                      ) -> None:
    missing = tmp_path / "polcies"
    [line] = _refused(["db", "upgrade"], {**env, "POLICY_DIR": str(missing)})
    assert "POLICY_DIR" in line and str(missing) in line


def test_the_shipped_policies_are_read_wherever_parley_starts(env: dict[str, str]) -> None:
    settings = Settings()  # the fixture's working directory is a temporary one
    assert (settings.policy_dir / "default.yml").is_file()
