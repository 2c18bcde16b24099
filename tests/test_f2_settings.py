"""The NLU training data is found from any folder; malformed Twilio SIDs are refused at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from backend.cli.main import app
from backend.settings import Settings

runner = CliRunner()
HEX = "0123456789abcdef" * 2
SID, TOKEN, SERVICE = "AC" + HEX, "twilio-live-token-0123456789", "MG" + HEX
CONTENT = f"parley_reminder=HX{HEX}"
PARLEY = Path(sys.executable).parent / "parley"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """No .env file, no Parley setting from outside, a SQLite file in a temporary folder."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'f2.db'}"}


def _settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _refused(args: list[str], env: dict[str, str]) -> str:
    """The one line a command printed when it refused to start (exit 2, no traceback)."""
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [line] = result.output.splitlines()
    return line


def _parley(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`parley ARGS` run in `cwd`, with only the Parley settings given here."""
    names = {name.upper() for name in Settings.model_fields}
    clean = {key: value for key, value in os.environ.items() if key.upper() not in names}
    return subprocess.run(
        [str(PARLEY), *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )


# 1. The shipped training data, wherever Parley starts.


def test_the_default_training_data_is_found_from_another_folder(env: dict[str, str]) -> None:
    data = _settings().nlu_training_data
    assert data.is_absolute() and (data / "greet.yml").is_file()


def test_a_relative_training_data_setting_is_read_from_the_working_folder(
    env: dict[str, str],
) -> None:
    assert _settings(nlu_training_data="mine").nlu_training_data == Path("mine")


def test_nlu_validate_reads_the_shipped_data_from_another_folder(tmp_path: Path) -> None:
    result = _parley(
        ["nlu", "validate"], tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'f2.db'}"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")


@pytest.mark.timeout(900)
def test_nlu_train_from_another_folder_writes_a_model(tmp_path: Path) -> None:
    models = tmp_path / "models"
    settings = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'f2.db'}",
        "NLU_MODEL_DIR": str(models),
    }
    migrated = _parley(["db", "upgrade"], tmp_path, **settings)
    assert migrated.returncode == 0, migrated.stderr
    trained = _parley(["nlu", "train"], tmp_path, **settings)
    assert trained.returncode == 0, trained.stderr
    assert trained.stdout.startswith("trained ")
    assert (models / "current").exists()


# 2. Twilio SIDs have Twilio's shape.

BAD_ACCOUNT_SIDS = [
    "AC123",
    "AC" + HEX[:-1],
    "AC" + HEX + "0",
    "ac" + HEX,
    "AC" + "g" * 32,
    "SK" + HEX,
    "MG" + HEX,
    "AC " + HEX,
]
BAD_SERVICE_SIDS = ["MG123", "MG" + HEX[:-1], "mg" + HEX, "MG" + "z" * 32, "AC" + HEX]


@pytest.mark.parametrize("value", BAD_ACCOUNT_SIDS)
def test_a_malformed_account_sid_is_refused_naming_the_setting(
    env: dict[str, str], value: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        _settings(twilio_account_sid=value, twilio_auth_token=TOKEN, twilio_sms_from="+13055550100")
    message = str(raised.value)
    assert "TWILIO_ACCOUNT_SID must be AC followed by 32 hex characters" in message
    assert value not in message


@pytest.mark.parametrize("value", BAD_SERVICE_SIDS)
def test_a_malformed_messaging_service_sid_is_refused_naming_the_setting(
    env: dict[str, str], value: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        _settings(
            twilio_account_sid=SID, twilio_auth_token=TOKEN, twilio_messaging_service_sid=value
        )
    message = str(raised.value)
    assert "TWILIO_MESSAGING_SERVICE_SID must be MG followed by 32 hex characters" in message
    assert value not in message


def test_well_formed_sids_are_accepted(env: dict[str, str]) -> None:
    settings = _settings(
        twilio_account_sid=f" {SID.upper()} ",
        twilio_auth_token=TOKEN,
        twilio_messaging_service_sid=SERVICE,
    )
    assert settings.twilio_account_sid == SID.upper()
    assert settings.twilio_messaging_service_sid == SERVICE


def test_content_sids_without_twilio_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as raised:
        _settings(twilio_whatsapp_content_sids=CONTENT)
    message = str(raised.value)
    assert "TWILIO_ACCOUNT_SID" in message and "TWILIO_AUTH_TOKEN" in message
    assert "a sender" in message and HEX not in message


def test_content_sids_with_twilio_are_accepted(env: dict[str, str]) -> None:
    settings = _settings(
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        twilio_whatsapp_from="+14155238886",
        twilio_whatsapp_content_sids=CONTENT,
    )
    assert settings.content_sids == {"parley_reminder": f"HX{HEX}"}


def test_an_api_url_alone_is_harmless(env: dict[str, str]) -> None:
    assert _settings(twilio_api_url="http://127.0.0.1:9001").twilio_account_sid is None


def test_serve_refuses_a_malformed_account_sid_in_one_line(env: dict[str, str]) -> None:
    typo = "AC" + HEX[:-1]
    line = _refused(
        ["serve"],
        {
            **env,
            "TWILIO_ACCOUNT_SID": typo,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_SMS_FROM": "+13055550100",
        },
    )
    assert "TWILIO_ACCOUNT_SID must be AC followed by 32 hex characters" in line
    assert typo not in line


def test_serve_refuses_a_malformed_messaging_service_sid_in_one_line(env: dict[str, str]) -> None:
    typo = "MG" + "z" * 32
    line = _refused(
        ["serve"],
        {
            **env,
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_MESSAGING_SERVICE_SID": typo,
        },
    )
    assert "TWILIO_MESSAGING_SERVICE_SID must be MG" in line and typo not in line


def test_serve_refuses_content_sids_without_twilio_in_one_line(env: dict[str, str]) -> None:
    line = _refused(["serve"], {**env, "TWILIO_WHATSAPP_CONTENT_SIDS": CONTENT})
    assert "TWILIO_ACCOUNT_SID" in line and "TWILIO_WHATSAPP_CONTENT_SIDS" in line
    assert HEX not in line
