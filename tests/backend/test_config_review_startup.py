"""Start-up refuses a Twilio sender, a Twilio set, a policy folder or a rules file it cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from backend.cli import main as cli_main
from backend.cli.main import app
from backend.services.compliance.rules import DEFAULT_RULES_PATH, load_rules
from backend.services.policy.loader import PolicyError, load_default
from backend.settings import SHIPPED_POLICIES, Settings

runner = CliRunner()
SID, TOKEN = "AC" + "0" * 32, "twilio-live-token-0123456789"
TWILIO = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_SMS_FROM", "TWILIO_WHATSAPP_FROM",
          "TWILIO_MESSAGING_SERVICE_SID", "POLICY_DIR", "PARLEY_ENV", "SECRET_KEY",
          "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN",
          "WHATSAPP_PHONE_NUMBER_ID", "DATABASE_URL")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """No .env file, no Twilio variable, a SQLite file in a temporary working directory."""
    for name in TWILIO:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}


def _refused(args: list[str], env: dict[str, str]) -> str:
    """The one line a command printed when it refused to start (exit 2, no traceback)."""
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [line] = result.output.splitlines()
    return line


def _settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# 1. Twilio senders are E.164.

@pytest.mark.parametrize("name", ["twilio_sms_from", "twilio_whatsapp_from"])
@pytest.mark.parametrize("number", ["(305) 555-0100", "banana", "3055550100", "+1 305 555 0100",
                                    "+1234567"])
def test_a_sender_that_is_not_e164_is_refused_naming_the_setting(
    env: dict[str, str], name: str, number: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        _settings(twilio_account_sid=SID, twilio_auth_token=TOKEN, **{name: number})
    message = str(raised.value)
    assert f"{name.upper()} must be an E.164 number" in message and number not in message


@pytest.mark.parametrize("name, number", [("twilio_sms_from", " +13055550100 "),
                                          ("twilio_whatsapp_from", "+14155238886"),
                                          ("twilio_whatsapp_from", "whatsapp:+14155238886")])
def test_an_e164_sender_is_accepted(env: dict[str, str], name: str, number: str) -> None:
    settings = _settings(twilio_account_sid=SID, twilio_auth_token=TOKEN, **{name: number})
    assert getattr(settings, name) == number.strip()


def test_serve_refuses_a_sender_that_is_not_e164_in_one_line(env: dict[str, str]) -> None:
    line = _refused(["serve"], {**env, "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN,
                                "TWILIO_SMS_FROM": "(305) 555-0100"})
    assert "TWILIO_SMS_FROM" in line and "E.164" in line and "555-0100" not in line


# 2. Twilio is all or nothing.

@pytest.mark.parametrize("given, missing", [
    ({"twilio_account_sid": SID, "twilio_sms_from": "+13055550100"}, ["TWILIO_AUTH_TOKEN"]),
    ({"twilio_auth_token": TOKEN, "twilio_whatsapp_from": "+13055550100"},
     ["TWILIO_ACCOUNT_SID"]),
    ({"twilio_messaging_service_sid": "MG" + "0" * 32},
     ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"]),
    ({"twilio_account_sid": SID, "twilio_auth_token": TOKEN}, ["a sender"]),
    ({"twilio_account_sid": SID}, ["TWILIO_AUTH_TOKEN", "a sender"]),
])
def test_a_partial_twilio_configuration_is_refused_naming_what_is_missing(
    env: dict[str, str], given: dict[str, str], missing: list[str]
) -> None:
    with pytest.raises(ValidationError) as raised:
        _settings(**given)
    message = str(raised.value)
    assert all(name in message for name in missing), message
    assert TOKEN not in message and SID not in message


def test_a_complete_twilio_configuration_or_none_is_accepted(env: dict[str, str]) -> None:
    assert _settings().twilio_account_sid is None
    full = _settings(twilio_account_sid=SID, twilio_auth_token=TOKEN,
                     twilio_messaging_service_sid="MG" + "0" * 32)
    assert full.twilio_auth_token == TOKEN


def test_serve_refuses_twilio_without_its_auth_token_in_one_line(env: dict[str, str]) -> None:
    line = _refused(["serve"], {**env, "TWILIO_ACCOUNT_SID": SID,
                                "TWILIO_SMS_FROM": "+13055550100"})
    assert "TWILIO_AUTH_TOKEN" in line and SID not in line


# 3. The policy folder holds default.yml.

def test_a_policy_folder_without_default_yml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as raised:
        load_default(tmp_path)
    assert str(tmp_path / "default.yml") in str(raised.value)


def test_a_default_yaml_is_named_so_it_can_be_renamed(tmp_path: Path) -> None:
    (tmp_path / "default.yaml").write_text("plan:\n  max_months: 6\n", encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_default(tmp_path)
    assert str(tmp_path / "default.yml") in str(raised.value)
    assert str(tmp_path / "default.yaml") in str(raised.value)


def test_the_shipped_policy_folder_still_loads() -> None:
    assert load_default(SHIPPED_POLICIES).plan.max_months > 0


def test_serve_refuses_an_empty_policy_folder_in_one_line(env: dict[str, str],
                                                          tmp_path: Path) -> None:
    empty = tmp_path / "policies"
    empty.mkdir()
    line = _refused(["serve"], {**env, "POLICY_DIR": str(empty)})
    assert str(empty / "default.yml") in line


# 4. The compliance rules file is read strictly.

def _rules(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, field", [
    ('quiet_hours:\n  start: "8 am"\n', "quiet_hours.start: "),
    ("quiet_hours:\n  start: 8:00\n", "quiet_hours.start: "),  # YAML's 480, not a time
    ("frequency:\n  per_channel: three\n", "frequency.per_channel: "),
    ("frequency:\n  states:\n    MA: {cap: two}\n", "frequency.states.MA.cap: "),
    ("frequency:\n  scope: everywhere\n", "frequency.scope: "),
    ("reply_windw_minutes: 30\n", "reply_windw_minutes: unknown key"),
    ("frequency:\n  per_chanel: 2\n", "frequency.per_chanel: unknown key"),
    ("frequency:\n  per_channel: [3\nwhatsapp: {}\n", "line 3: not valid YAML"),
])
def test_a_rules_mistake_names_the_file_and_the_field(tmp_path: Path, text: str,
                                                       field: str) -> None:
    path = _rules(tmp_path, text)
    with pytest.raises(ValueError) as raised:
        load_rules(path)
    assert str(raised.value).startswith(f"{path}: {field}"), str(raised.value)


def test_every_rules_problem_is_listed(tmp_path: Path) -> None:
    path = _rules(tmp_path, 'quiet_hours: {start: "8 am", end: "9 pm"}\nextra: 1\n')
    with pytest.raises(ValueError) as raised:
        load_rules(path)
    assert [p.split(":")[0] for p in getattr(raised.value, "problems", [])] == [
        "quiet_hours.start", "quiet_hours.end", "extra"]


def test_keys_left_out_keep_their_conservative_defaults(tmp_path: Path) -> None:
    rules = load_rules(_rules(tmp_path, "frequency:\n  states:\n    MA: 2\n"))
    assert (rules.quiet_start.hour, rules.quiet_end.hour, rules.cap_per_channel) == (8, 21, 3)
    assert rules.state_caps["MA"].limit == 2


def test_serve_refuses_a_broken_rules_file_in_one_line(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    path = _rules(tmp_path, shipped.replace('start: "08:00"', 'start: "8 am"'))
    monkeypatch.setattr(cli_main, "DEFAULT_RULES_PATH", path)
    line = _refused(["serve"], env)
    assert line == f'parley: {path}: quiet_hours.start: must be a quoted 24-hour "HH:MM" ' \
                   'time, like "08:00"'
