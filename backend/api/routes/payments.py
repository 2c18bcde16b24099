"""Payments in: billing systems (API), the sandbox pay page, and signed provider webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from backend.api.deps import ApiClient, ContainerDep, IdPath
from backend.api.exact_json import ExactJSONRoute
from backend.api.routes.portal import accepted_language
from backend.api.schemas.accounts import in_minor_units
from backend.api.security_headers import secure
from backend.container import Container
from backend.db.models import Account, Payment
from backend.db.models.enums import AccountStatus
from backend.services import ledger
from backend.services.payments.base import (
    CurrencyMismatch,
    NothingPaid,
    PaymentEvent,
    PaymentProvider,
    WebhookRejected,
)
from backend.services.payments.links import PaymentLink, PaymentLinks, channel_of
from backend.services.payments.page import payment_page_url
from backend.services.payments.sandbox import charge
from backend.services.payments.service import PaymentService
from backend.services.policy.money import places, round_down
from backend.services.portal import PortalLinks
from bot.responses.render import locale_for, money

router = APIRouter(tags=["payments"], route_class=ExactJSONRoute)
# How far a billing system's clock may run ahead of ours before its paid_at is refused.
CLOCK_SKEW = timedelta(minutes=5)
# No payment this system could be told about is older: an earlier paid_at is a typo or a
# placeholder (1900-01-01) that would misdate the ledger and the reports.
EARLIEST_PAID_AT = datetime(2000, 1, 1, tzinfo=UTC)
templates = Jinja2Templates(directory=Path(__file__).parents[2] / "pages" / "portal")


class PaymentCreate(BaseModel):
    """A payment a billing system received; `reference` makes retries harmless."""

    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=2)
    reference: str = Field(min_length=1, max_length=128)
    paid_at: datetime | None = None
    method: str = Field("card", max_length=32)
    currency: str | None = Field(None, description="must be the account's currency if given")

    @field_validator("reference")
    @classmethod
    def _not_blank(cls, reference: str) -> str:
        if not reference.strip():
            raise ValueError("reference is blank")
        return reference


class PaymentPublic(BaseModel):
    """A posted payment."""

    payment_id: int
    account_id: int
    amount: Decimal
    reference: str
    alias: str | None = Field(default=None, description=(
        "the payment's other reference (see PaymentPublic.alias of GET /api/accounts/{id})"))
    created: bool
    applied_to: str | None
    overpaid: Decimal = Field(Decimal("0.00"), description=(
        "paid beyond what was owed (the balance, or what an agreed settlement still needed)"))


def _payments(container: ContainerDep) -> PaymentService:
    service: PaymentService = container.services["payments"]
    return service


@router.post("/api/accounts/{account_id}/payments", response_model=PaymentPublic)
async def post_payment(account_id: IdPath, body: PaymentCreate, container: ContainerDep,
                       response: Response, client: ApiClient) -> Any:
    """Post a payment (201); the same reference and amount again changes nothing (200).

    The same reference with another amount is a conflict (409): it is not a retry.
    """
    _check_paid_at(body.paid_at, container.clock.now())
    await _check_currency(container, account_id, body.currency, body.amount)
    posted = await _payments(container).post(
        account_id, body.amount, body.reference, source="api", method=body.method,
        paid_at=body.paid_at, actor=f"apikey:{client.prefix}")
    if posted is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account {account_id}")
    if not posted.created and posted.payment.amount != body.amount:
        raise HTTPException(status.HTTP_409_CONFLICT, (
            f"reference {body.reference!r} already exists on account {account_id}"
            f" with amount {posted.payment.amount}, not {body.amount}"))
    response.status_code = status.HTTP_201_CREATED if posted.created else status.HTTP_200_OK
    currency = posted.payment.currency
    return PaymentPublic(payment_id=posted.payment.id, account_id=account_id,
                         amount=in_minor_units(posted.payment.amount, currency),
                         reference=posted.payment.reference, alias=posted.payment.alias,
                         created=posted.created,
                         applied_to=posted.applied_to,
                         overpaid=in_minor_units(posted.overpaid, currency))


def _check_paid_at(paid_at: datetime | None, now: datetime) -> None:
    if paid_at is None:
        return
    if paid_at.tzinfo is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "paid_at needs a timezone")
    if paid_at > now + CLOCK_SKEW:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"paid_at {paid_at.isoformat()} is in the future")
    if paid_at < EARLIEST_PAID_AT:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"paid_at {paid_at.isoformat()} is before"
                            f" {EARLIEST_PAID_AT.date().isoformat()}")


async def _check_currency(container: ContainerDep, account_id: int, currency: str | None,
                          amount: Decimal) -> None:
    """Refuse a currency other than the account's (the ledger would record it as the
    account's), and an amount finer than its minor unit (10.50 yen)."""
    async with container.sessions() as session:
        account = await session.get(Account, account_id)
    if account is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account {account_id}")
    if amount != round_down(amount, account.currency):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, (
            f"amount {amount} has more decimals than {account.currency} has "
            f"({places(account.currency)})"))
    if currency is not None and currency.strip().upper() != account.currency:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, (
            f"currency {currency!r} is not the account's currency {account.currency};"
            " payments are recorded in the account's currency"))


INVALID_LINK = "this payment link is invalid or expired"
# The page for a link that opens nothing, by language: what a tab or a screen reader names.
INVALID_TITLES = {
    "en": "Payment link invalid or expired · Parley",
    "es": "Enlace de pago no válido o caducado · Parley",
}


def _link(container: ContainerDep, token: str) -> PaymentLink | None:
    links: PaymentLinks = container.services["payment_links"]
    return links.read(token)


def invalid_link(request: Request) -> Response:
    """A forged, tampered or expired link: a page in the reader's language saying how to get
    a new one, and nothing about any debt (404).

    Only a client that asks for JSON and not HTML gets the API's JSON error.
    """
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return JSONResponse({"detail": INVALID_LINK}, status.HTTP_404_NOT_FOUND)
    lang = accepted_language(request.headers.get("accept-language", ""))
    # The token was in the address all the same: the portal's headers (no Referer).
    return secure(templates.TemplateResponse(
        request, "pay_invalid_link.html", {"lang": lang, "title": INVALID_TITLES[lang]},
        status_code=status.HTTP_404_NOT_FOUND))


@dataclass(frozen=True)
class _Due:
    """What a link may charge now, by the account as it stands, not as it stood when sent."""

    account: Account
    lang: str  # the debtor's language: the page speaks it
    amount: Decimal  # 0: nothing to pay
    notice: str | None = None  # why nothing, or less than the link says, is charged


# What the pay page says, by language (the debtor's preferred one).
SAYS = {
    "en": {
        "used": "This link has already been used to pay. There is nothing more to pay through"
                " it, and nothing will be charged.",
        "no_balance": "There is nothing to pay: this account has no balance left, and nothing"
                      " will be charged.",
        "held": "There is nothing to pay through this link now, and nothing will be charged."
                " Please contact us about this account.",
        "lower": "The balance is now {balance}, less than the {amount} this link was sent for:"
                 " you will be charged {balance}.",
        "settlement": "Your agreed settlement now needs {balance}, less than the {amount} this"
                      " link was sent for: you will be charged {balance}.",
        "paid": "Payment complete. Thank you!",
        "invalid": "Payment not made: that is not a card number. Please check the card number"
                   " (13 to 19 digits, as printed on the card) and try again.",
        "declined": "Payment declined: the card was not accepted. Please check the card"
                    " number, try another card, or ask your bank why.",
        "failed": "Payment failed: there are not enough funds on this card (insufficient"
                  " funds). Please try another card.",
        "title": "Secure payment",
        "error_title": "Error: secure payment",
    },
    "es": {
        "used": "Este enlace ya se usó para pagar. No hay nada más que pagar con él y no se"
                " cobrará nada.",
        "no_balance": "No hay nada que pagar: esta cuenta no tiene saldo y no se cobrará nada.",
        "held": "Ahora no hay nada que pagar con este enlace y no se cobrará nada. Por favor,"
                " contáctenos sobre esta cuenta.",
        "lower": "El saldo es ahora de {balance}, menos que los {amount} de este enlace: se le"
                 " cobrarán {balance}.",
        "settlement": "Su acuerdo de liquidación necesita ahora {balance}, menos que los {amount}"
                      " de este enlace: se le cobrarán {balance}.",
        "paid": "Pago completado. ¡Gracias!",
        "invalid": "No se realizó el pago: eso no es un número de tarjeta. Por favor, compruebe"
                   " el número de tarjeta (de 13 a 19 dígitos, como aparece en la tarjeta) e"
                   " inténtelo de nuevo.",
        "declined": "Pago rechazado: no se aceptó la tarjeta. Por favor, compruebe el número de"
                    " tarjeta, pruebe con otra tarjeta o pregunte a su banco el motivo.",
        "failed": "Pago fallido: no hay fondos suficientes en esta tarjeta (fondos"
                  " insuficientes). Por favor, pruebe con otra tarjeta.",
        "title": "Pago seguro",
        "error_title": "Error: pago seguro",
    },
}
# What the card field takes: a card number has at most 19 digits; the rest is room for spaces.
CARD_ENTRY_MAX = 40
CARD_DIGITS = range(13, 20)


async def _opened(container: ContainerDep, token: str) -> tuple[PaymentLink, _Due] | None:
    """The link `token` stands for and what it may charge now; None when it opens nothing
    (forged, tampered, expired, or its account is gone)."""
    link = _link(container, token)
    if link is None:
        return None
    due = await _due(container, link)
    return None if due is None else (link, due)


async def _due(container: ContainerDep, link: PaymentLink) -> _Due | None:
    async with container.sessions() as session:
        account = await session.get(Account, link.account_id,
                                    options=[selectinload(Account.debtor)])
        if account is None:
            return None
        used = await _used(session, link)
        owed = await _owed(session, account)
    lang = account.debtor.preferred_language if account.debtor.preferred_language in SAYS \
        else "en"
    held = _nothing_to_pay(account, owed, used)
    if held is not None:
        return _Due(account, lang, Decimal("0.00"), SAYS[lang][held])
    if link.amount > owed:
        says = "lower" if owed == account.current_balance else "settlement"
        return _Due(account, lang, owed, SAYS[lang][says].format(
            balance=_money(owed, account, lang), amount=_money(link.amount, account, lang)))
    return _Due(account, lang, link.amount)


async def _used(session: AsyncSession, link: PaymentLink) -> bool:
    """Whether a payment came through this link: posted under its reference here, or by a
    provider whose payment carries it as its billing reference (the payment's alias)."""
    found = await session.scalar(select(Payment.id).where(
        Payment.account_id == link.account_id,
        or_(Payment.reference == link.reference, Payment.alias == link.reference)).limit(1))
    return found is not None


async def _owed(session: AsyncSession, account: Account) -> Decimal:
    """What closes the debt now, as the ledger will judge the payment: the balance, or what
    an agreed settlement still needs."""
    # The ledger's own rule, so the page never charges what the ledger would call overpaid;
    # it has no public name yet.
    plan = await ledger._active_plan(session, account.id)
    return ledger._owed(account, plan)


def _nothing_to_pay(account: Account, owed: Decimal, used: bool) -> str | None:
    """Why this link may charge nothing now (a key of `SAYS`), or None."""
    if used:
        return "used"
    if account.status != AccountStatus.ACTIVE or owed <= 0:
        return "no_balance"
    # compliance.md G item 75 and A.5 item 25: hold states and disputes stop collection.
    if account.collection_stopped or account.dispute:
        return "held"
    return None


def _money(amount: Decimal, account: Account, lang: str) -> str:
    """As the bot writes it to the same account, so the page and the reply agree."""
    return money(amount, account.currency, locale_for(lang, account.currency))


def _page(request: Request, due: _Due, outcome: str | None = None, paid: bool = False, *,
          failed: bool = False, test_cards: bool = True, back: str | None = None) -> Response:
    """The pay page; a `failed` outcome is the card field's error, read out as focus lands on
    the field, and any other outcome takes the focus itself."""
    payable = not paid and due.amount > 0
    says = SAYS[due.lang]
    # The portal's headers: the page's address holds the signed token (no Referer), no frames.
    return secure(templates.TemplateResponse(request, "pay.html", {
        "lang": due.lang, "title": f"{says['error_title' if failed else 'title']} · Parley",
        "outcome": outcome, "failed": failed,
        "notice": None if paid else due.notice, "payable": payable and test_cards,
        "offline": payable and not test_cards, "card_max": CARD_ENTRY_MAX, "back": back,
        "amount": _money(due.amount, due.account, due.lang),
    }))


def _portal_path(container: Container, link: PaymentLink) -> str | None:
    """The account's portal page (its chat), the way back from the pay page."""
    portal: PortalLinks | None = container.services.get("portal_links")
    return None if portal is None else f"/p/{portal.token_for(link.account_id)}"


def card_problem(card: str) -> str | None:
    """Why `card` cannot be a card number (a key of `SAYS`), None when it may be one: digits,
    spaces and dashes only, 13 to 19 digits, and the check digit right."""
    digits = [int(ch) for ch in card if ch.isdigit()]
    shaped = len(card) <= CARD_ENTRY_MAX and all(ch.isdigit() or ch in " -" for ch in card)
    return None if shaped and len(digits) in CARD_DIGITS and _luhn(digits) else "invalid"


def _luhn(digits: list[int]) -> bool:
    """Whether the last digit checks the others, as every card number's does (Luhn)."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _test_cards(container: Container) -> bool:
    """The built-in test-card page charges nothing real, so it may post payments only
    outside production; in production money comes from a real provider's signed webhooks."""
    return container.settings.parley_env != "production"


@router.get("/pay/{token}", response_class=HTMLResponse, include_in_schema=False)
async def pay_page(token: str, request: Request, container: ContainerDep) -> Response:
    """The creditor's payment page (PAYMENT_PAGE_URL) for what is owed, else the test-card
    page outside production, else a page saying online payment is not offered here; a link
    that opens nothing gets the page saying how to get a new one."""
    opened = await _opened(container, token)
    if opened is None:
        return invalid_link(request)
    link, due = opened
    page = container.settings.payment_page_url
    if page and due.amount > 0:
        return RedirectResponse(payment_page_url(
            page, reference=link.reference, amount=due.amount, currency=due.account.currency,
            account=due.account.external_ref), status_code=status.HTTP_303_SEE_OTHER)
    return _page(request, due, test_cards=not page and _test_cards(container),
                 back=_portal_path(container, link))


@router.post("/pay/{token}", response_class=HTMLResponse, include_in_schema=False)
async def pay(token: str, request: Request, container: ContainerDep,
              card: Annotated[str, Form()] = "") -> Response:
    """Charge a test card at most what is still owed (never in production, nor when the
    creditor's own page takes payments); a completed charge posts the payment once per link.

    An entry that cannot be a card number is never charged: the page says so, at any length.
    """
    opened = await _opened(container, token)
    if opened is None:
        return invalid_link(request)
    if container.settings.payment_page_url or not _test_cards(container):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "test-card payments are not offered")
    link, due = opened
    back = _portal_path(container, link)
    if due.amount <= 0:
        return _page(request, due, back=back)
    result = card_problem(card) or charge(card)
    if result != "succeeded":
        return _page(request, due, SAYS[due.lang][result], failed=True, back=back)
    async with container.sessions() as session:
        channel = await channel_of(session, link, token)
    await _payments(container).post(link.account_id, due.amount, link.reference,
                                    source="sandbox", actor="sandbox", channel=channel)
    return _page(request, due, SAYS[due.lang]["paid"], paid=True, back=back)


@router.post("/webhooks/payments/{provider}", include_in_schema=False)
async def payment_webhook(provider: str, request: Request,
                          container: ContainerDep) -> dict[str, int]:
    """Verify the signature over the raw body first, then post each succeeded payment,
    reverse each refund of a posted one and apply again each refund that failed."""
    providers: dict[str, PaymentProvider] = container.services["payment_providers"]
    handler = providers.get(provider)
    if handler is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no payment provider {provider!r}")
    body = await request.body()
    now = container.clock.now()
    try:
        handler.verify(request.headers, body, now)
        events = handler.events(body, now)
    except WebhookRejected as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    posted = refused = refunds = failed_refunds = 0
    for event in events:
        if event.status == "refunded":
            reversed_now = await _payments(container).refund(
                event.reference, event.amount, source=event.provider,
                account_id=event.account_id, actor=event.provider)
            refunds += bool(reversed_now)
            continue
        if event.status == "refund_failed" and event.refund_id is not None:
            restored = await _payments(container).refund_failed(
                event.reference, event.amount, event.refund_id, source=event.provider,
                actor=event.provider)
            failed_refunds += bool(restored)
            continue
        if event.status == "succeeded":
            outcome = await _post_succeeded(container, event)
            posted += outcome == "posted"
            refused += outcome == "refused"
    answer = {"received": len(events), "posted": posted, "refused": refused}
    if refunds:
        answer["refunded"] = refunds
    if failed_refunds:
        answer["refunds_failed"] = failed_refunds
    return answer


async def _post_succeeded(container: Container, event: PaymentEvent) -> str | None:
    """What became of a succeeded payment: "posted", "refused" (in the audit log for a person
    to reconcile), or None when it was posted before."""
    payments = _payments(container)
    try:
        result = None if event.account_id is None else await payments.post(
            event.account_id, event.amount, event.reference, source=event.provider,
            actor=event.provider, currency=event.currency, alias=event.alias)
    except (CurrencyMismatch, NothingPaid):
        # Answered 200 all the same: the provider retrying cannot change the currency or the
        # amount.
        return "refused"
    if result is None:
        # An account unknown here (or no possible id) is no more found on a retry.
        await payments.unmatched(event)
        return "refused"
    return "posted" if result.created else None
