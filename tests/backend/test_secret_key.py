"""SECRET_KEY: unset, a per-install secret kept in var/; the public placeholder only on loopback."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from backend import settings as settings_module
from backend.cli.main import app
from backend.services.portal import PortalLinks
from backend.settings import Settings
from bot.clock import SettableClock
from tests.conftest import T0

PLACEHOLDER = "dev-secret-change-me"
SECRET_KEY_FILE = Path("var/secret_key")  # under the working directory, like var/parley.db


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh install directory as the working directory, no secret in the environment."""
    for name in ("SECRET_KEY", "HOST", "PUBLIC_BASE_URL", "PARLEY_ENV", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_unset_the_secret_is_made_once_private_and_reused(install: Path) -> None:
    first = _settings()
    path = install / SECRET_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 32 and first.secret_key != PLACEHOLDER
    assert first.secret_key == path.read_text().strip()
    # A restart reads the same secret: links (and console sessions) made before still work.
    clock = SettableClock(T0)
    link = PortalLinks(first.secret_key, first.public_base_url, clock, timedelta(days=1))
    again = _settings(host="0.0.0.0")
    assert again.secret_key == first.secret_key
    reread = PortalLinks(again.secret_key, again.public_base_url, clock, timedelta(days=1))
    assert reread.account_id(link.token_for(42)) == 42
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]


def test_installs_do_not_share_a_secret(tmp_path: Path, install: Path) -> None:
    other = tmp_path / "other"
    assert settings_module.local_secret(other / "secret_key") != _settings().secret_key


def test_processes_starting_at_once_agree_on_one_secret(install: Path) -> None:
    path = install / "var" / "secret_key"
    with ThreadPoolExecutor(8) as pool:
        secrets = set(pool.map(lambda _: settings_module.local_secret(path), range(16)))
    assert len(secrets) == 1 and secrets == {path.read_text().strip()}
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]


@pytest.mark.parametrize(
    "where",
    [
        {"host": "0.0.0.0"},
        {"host": "10.1.2.3"},
        {"public_base_url": "https://pay.example.com"},
        {"public_base_url": "http://192.168.1.5:8000"},
    ],
)
@pytest.mark.parametrize("placeholder", [PLACEHOLDER, "change-me", "secret"])
def test_the_placeholder_is_refused_off_loopback(
    install: Path, where: dict[str, str], placeholder: str
) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY is a published placeholder") as refused:
        _settings(secret_key=placeholder, **where)
    assert "HOST or PUBLIC_BASE_URL" in str(refused.value)


@pytest.mark.parametrize(
    "where",
    [
        {},
        {"host": "localhost"},
        {"host": "::1"},
        {"public_base_url": "http://localhost:8000"},
        {"public_base_url": "http://[::1]:8000"},
    ],
)
def test_the_placeholder_still_works_on_loopback(install: Path, where: dict[str, str]) -> None:
    assert _settings(secret_key=PLACEHOLDER, **where).secret_key == PLACEHOLDER


def test_a_real_secret_serves_anywhere(install: Path) -> None:
    real = "k" * 40
    assert _settings(secret_key=real, host="0.0.0.0").secret_key == real
    assert not (install / SECRET_KEY_FILE).exists()


def test_a_refused_setting_leaves_no_secret_file_behind(install: Path) -> None:
    with pytest.raises(ValidationError, match="LOG_LEVEL"):
        _settings(log_level="LOUD")
    assert not (install / "var").exists()


def test_production_still_needs_a_secret_set(install: Path) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY must be a real secret"):
        _settings(parley_env="production")
    assert not (install / "var").exists()


def test_an_unusable_secret_file_is_a_clear_error(install: Path) -> None:
    path = install / SECRET_KEY_FILE
    path.parent.mkdir()
    path.write_text("short\n")
    with pytest.raises(ValidationError, match="var/secret_key holds no generated secret") as bad:
        _settings()
    assert "set SECRET_KEY" in str(bad.value)
    assert path.read_text() == "short\n"  # left for the operator to look at


def test_the_cli_refuses_the_placeholder_off_loopback_naming_the_setting(
    install: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", "change-me")
    monkeypatch.setenv("HOST", "0.0.0.0")
    result = CliRunner().invoke(app, ["apikey", "list"])
    assert result.exit_code == 2
    assert "parley: invalid setting: SECRET_KEY is a published placeholder" in result.output
    assert "change-me" not in result.output  # a refused value is never echoed


def test_serve_on_a_public_host_refuses_the_placeholder_from_the_flag_too(
    install: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECRET_KEY", PLACEHOLDER)

    def served(*args: object, **kwargs: object) -> None:
        raise AssertionError("the placeholder was served on 0.0.0.0")

    monkeypatch.setattr("uvicorn.run", served)
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "SECRET_KEY" in result.output and PLACEHOLDER not in result.output
