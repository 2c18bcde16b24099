"""S24: a payment's receipt is said in the portfolio's wording, or in the shipped sentences when
that wording cannot be rendered: a receipt always goes."""

from __future__ import annotations

import functools
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from backend.container import Container
from backend.db.models import Account, Portfolio
from backend.services.payments.service import PaymentService
from backend.services.policy import Policy
from backend.services.policy import model as policy_model
from bot.responses import Catalog, Renderer, catalog
from tests.conversations import conftest
from tests.conversations.conftest import Chat
from tests.conversations.fakes import CollectingOutbox

chat = conftest.chat
account_id = conftest.account_id
WORDING = "s24"
VERIFIED = "Payment of {amount} in: thanks from all of us at Parley."
UNVERIFIED = "Your payment is in: thanks from all of us at Parley. Reply here for details."
SHIPPED_UNVERIFIED = "Thank you, we received your payment. For details, just reply here."


@pytest.fixture
def wording_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped sentences with an `s24` override of both receipts, which policies accept."""
    root = tmp_path / "responses"
    root.mkdir()
    for locale in catalog.LOCALES:
        shutil.copy(catalog.ROOT / f"{locale}.yml", root / f"{locale}.yml")
    folder = root / catalog.OVERRIDES / WORDING
    folder.mkdir(parents=True)
    (folder / "en.yml").write_text(
        f'payment.received: "{VERIFIED}"\npayment.received_unverified: "{UNVERIFIED}"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(policy_model, "wordings", functools.partial(catalog.wordings, root))
    monkeypatch.setattr(
        policy_model, "wording_problems", functools.partial(catalog.wording_problems, root=root)
    )
    return root


async def _use_wording(container: Container, account_id: int) -> None:
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        portfolio = await session.get(Portfolio, account.portfolio_id)
        assert portfolio is not None
        portfolio.policy = Policy(wording=WORDING).model_dump(mode="json")
        portfolio.policy_version = (portfolio.policy_version or 0) + 1


async def _receipt(chat: Chat, account_id: int, root: Path, reference: str) -> str:
    """Post $20.00 through the payment service; the receipt's text."""
    container, outbox = chat.container, CollectingOutbox()
    payments = PaymentService(
        container.sessions,
        container.clock,
        container.services["state_store"],
        outbox,
        Renderer(Catalog(root)),
    )
    assert await payments.post(account_id, Decimal("20.00"), reference, source="api")
    [receipt] = outbox.messages
    assert outbox.sent == [1]
    return receipt.text


async def test_an_unverified_receipt_is_in_the_portfolios_wording(
    chat: Chat,
    account_id: int,
    wording_root: Path,
) -> None:
    await _use_wording(chat.container, account_id)
    await chat.says("hi")
    text = await _receipt(chat, account_id, wording_root, "s24-unverified")
    assert text.startswith(UNVERIFIED), text
    assert SHIPPED_UNVERIFIED not in text


async def test_a_verified_receipt_is_in_the_portfolios_wording(
    chat: Chat,
    account_id: int,
    wording_root: Path,
) -> None:
    await _use_wording(chat.container, account_id)
    await chat.verify()
    text = await _receipt(chat, account_id, wording_root, "s24-verified")
    assert VERIFIED.format(amount="$20.00") in text, text
    assert "We've received your payment" not in text


async def test_a_wording_broken_since_it_was_saved_still_lets_the_receipt_go(
    chat: Chat,
    account_id: int,
    wording_root: Path,
) -> None:
    await _use_wording(chat.container, account_id)
    await chat.says("hi")
    broken = wording_root / catalog.OVERRIDES / WORDING / "en.yml"
    broken.write_text('payment.received_unverified: "the quote never ends\n', encoding="utf-8")
    text = await _receipt(chat, account_id, wording_root, "s24-broken")
    assert text.startswith(SHIPPED_UNVERIFIED), text


async def test_without_a_portfolio_wording_the_shipped_receipt_goes(
    chat: Chat,
    account_id: int,
    wording_root: Path,
) -> None:
    await chat.says("hi")
    text = await _receipt(chat, account_id, wording_root, "s24-shipped")
    assert text.startswith(SHIPPED_UNVERIFIED), text


async def test_a_stored_policy_that_no_longer_validates_gives_the_shipped_receipt(
    chat: Chat,
    account_id: int,
    wording_root: Path,
) -> None:
    await chat.says("hi")
    await _use_wording(chat.container, account_id)
    shutil.rmtree(wording_root / catalog.OVERRIDES / WORDING)  # its folder removed since
    text = await _receipt(chat, account_id, wording_root, "s24-invalid")
    assert text.startswith(SHIPPED_UNVERIFIED), text
