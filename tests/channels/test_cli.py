"""The channels CLI: reminders from the shell and Telegram webhook registration."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from backend.cli.main import app
from backend.container import build_container
from backend.settings import Settings
from tests.channels.helpers import seed_debtor
from tests.fakes.server import FakeServer


def _env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    for name, value in settings.model_dump().items():
        if value is not None and name not in {"nlu_model_dir"}:
            monkeypatch.setenv(name.upper(), str(value))


async def test_telegram_set_webhook_registers_with_the_secret(
    channel_settings: Settings, telegram_api: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, channel_settings)
    result = await asyncio.to_thread(CliRunner().invoke, app, ["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    [call] = telegram_api.calls("/setWebhook")
    assert call.form["url"] == "https://parley.example.com/webhooks/telegram"
    assert call.form["secret_token"] == channel_settings.telegram_webhook_secret


async def test_remind_one_account_sends_through_the_gate(
    channel_settings: Settings, twilio_api: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = build_container(channel_settings)
    try:
        _, account_id = await seed_debtor(container, now=container.clock.now())
    finally:
        await container.close()
    _env(monkeypatch, channel_settings)
    import asyncio

    result = await asyncio.to_thread(CliRunner().invoke, app, ["remind", "--account",
                                                               str(account_id)])
    assert result.exit_code == 0, result.output
    assert f"account {account_id}: sms" in result.output
    bad = await asyncio.to_thread(CliRunner().invoke, app, ["remind"])
    assert bad.exit_code != 0
