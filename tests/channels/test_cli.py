"""The channels CLI: reminders from the shell, Telegram webhook registration and deep links."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from click.testing import Result
from typer.testing import CliRunner

from backend.cli.main import app
from backend.container import build_container
from backend.db.models import Promise
from backend.services.telegram_links import read_token
from backend.settings import Settings
from tests.channels.helpers import PUBLIC_BASE_URL, messages, seed_debtor
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
    account_id = await _seeded_account(channel_settings)
    _env(monkeypatch, channel_settings)
    result = await _invoke("remind", "--account", str(account_id))
    assert result.exit_code == 0, result.output
    assert f"account {account_id}: sms" in result.output
    bad = await _invoke("remind")
    assert bad.exit_code != 0


async def _invoke(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def test_remind_carries_the_portal_link(
    channel_settings: Settings, twilio_api: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = build_container(channel_settings)
    try:
        _, account_id = await seed_debtor(container, now=container.clock.now())
        _env(monkeypatch, channel_settings)
        result = await _invoke("remind", "--account", str(account_id))
        assert result.exit_code == 0, result.output
        # Sent now or deferred by quiet hours (the CLI runs on the real clock): stored either way.
        [reminder] = await messages(container, "outbound")
        assert f"{PUBLIC_BASE_URL}/p/" in reminder.text
        # The line says what became of it, as stored: "sent", not the gate's "pending".
        assert f"account {account_id}: sms {reminder.delivery_status}" in result.output
        assert reminder.delivery_status != "pending"
    finally:
        await container.close()


async def test_remind_goes_once_and_all_due_leaves_held_accounts_alone(
    channel_settings: Settings, twilio_api: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = build_container(channel_settings)
    try:
        now = container.clock.now()
        _, account_id = await seed_debtor(container, now=now)
        _, promised = await seed_debtor(container, now=now, phone="+12125551235")
        _, fresh = await seed_debtor(container, now=now, phone="+12125551236")
        async with container.sessions.begin() as session:
            session.add(Promise(account_id=promised, amount=Decimal("50.00"), status="pending",
                                due_date=now.date(), created_at=now))
        _env(monkeypatch, channel_settings)
        first = await _invoke("remind", "--account", str(account_id))
        assert first.exit_code == 0, first.output
        [reminder] = await messages(container, "outbound")
        again = await _invoke("remind", "--account", str(account_id))
        assert again.exit_code == 0, again.output
        assert (f"account {account_id}: sms skipped already_reminded (message {reminder.id})"
                in again.output)
        due = await _invoke("remind", "--all-due")
        assert due.exit_code == 0, due.output
        assert f"account {account_id}: sms skipped already_reminded" in due.output
        assert f"account {fresh}: sms " in due.output
        assert f"account {promised}:" not in due.output  # a pending promise holds the account
        outbound = await messages(container, "outbound")
        assert len(outbound) == 2  # the first account's once, the fresh account's once
        assert len(twilio_api.calls("/Messages.json")) <= 2
    finally:
        await container.close()


async def test_remind_an_unknown_account_exits_1(
    channel_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, channel_settings)
    result = await _invoke("remind", "--account", "99999")
    assert result.exit_code == 1
    assert "no account 99999" in result.output


async def test_telegram_link_prints_a_deep_link_for_the_account(
    channel_settings: Settings, telegram_api: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = build_container(channel_settings)
    try:
        _, account_id = await seed_debtor(container, now=container.clock.now())
        now = container.clock.now()
    finally:
        await container.close()
    _env(monkeypatch, channel_settings)
    result = await _invoke("telegram", "link", "--account", str(account_id))
    assert result.exit_code == 0, result.output
    link = result.output.strip()
    assert link.startswith("https://t.me/parley_bot?start=")
    token = link.split("?start=", 1)[1]
    assert read_token(channel_settings.secret_key, token, now) == account_id
    assert telegram_api.calls("/getMe") == []  # TELEGRAM_BOT_USERNAME names the bot


async def test_telegram_link_asks_get_me_without_a_username(
    channel_settings: Settings, telegram_api: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = await _seeded_account(channel_settings)
    _env(monkeypatch, channel_settings.model_copy(update={"telegram_bot_username": None}))
    monkeypatch.delenv("TELEGRAM_BOT_USERNAME", raising=False)
    result = await _invoke("telegram", "link", "--account", str(account_id))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("https://t.me/parley_bot?start=")
    assert len(telegram_api.calls("/getMe")) == 1


async def test_telegram_link_for_an_unknown_account_exits_1(
    channel_settings: Settings, telegram_api: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, channel_settings)
    result = await _invoke("telegram", "link", "--account", "99999")
    assert result.exit_code == 1
    assert "no account 99999" in result.output


async def test_telegram_link_without_a_bot_names_the_missing_setting(
    channel_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, channel_settings.model_copy(update={"telegram_bot_token": None}))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    result = await _invoke("telegram", "link", "--account", "1")
    assert result.exit_code != 0
    assert "TELEGRAM_BOT_TOKEN is not set" in result.output


async def _seeded_account(settings: Settings) -> int:
    """One debtor with an account in the CLI's database; the account id."""
    container = build_container(settings)
    try:
        _, account_id = await seed_debtor(container, now=container.clock.now())
    finally:
        await container.close()
    return account_id
