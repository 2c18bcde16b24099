"""The creditor's own hosted payment page that a pay link hands the debtor to."""

from __future__ import annotations

from decimal import Decimal
from string import Formatter
from urllib.parse import quote, urlsplit

FIELDS = frozenset({"reference", "amount", "currency", "account"})
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def check_payment_page(template: str) -> None:
    """Refuse a PAYMENT_PAGE_URL that is not https (but for loopback) or names unknown fields."""
    try:
        names = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"PAYMENT_PAGE_URL is not a valid template: {exc}") from None
    unknown = sorted(names - FIELDS)
    if unknown:
        raise ValueError(f"PAYMENT_PAGE_URL names unknown fields {unknown}; it may use "
                         f"{sorted(FIELDS)}")
    if "reference" not in names:
        # Without it the payment that comes back cannot be matched to the link (its alias).
        raise ValueError("PAYMENT_PAGE_URL must carry {reference}")
    parts = urlsplit(template.format(**dict.fromkeys(names, "x")))
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        raise ValueError("PAYMENT_PAGE_URL must be an https URL (http only on loopback)")


def payment_page_url(template: str, *, reference: str, amount: Decimal, currency: str,
                     account: str) -> str:
    """The template with each field filled in, URL-quoted."""
    values = {"reference": reference, "amount": str(amount), "currency": currency,
              "account": account}
    return template.format(**{k: quote(v, safe="") for k, v in values.items()})
