"""A realistic demo portfolio: creditors, debtors across US timezones, EN/ES, payments, promises."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, Payment, Promise
from backend.services.geo import US_STATE_TIMEZONES
from backend.services.imports.rows import AccountRow
from backend.services.imports.writer import upsert_accounts

CREDITORS = (
    ("Acme Bank", ("Credit cards", "Personal loans")),
    ("Northwind Utilities", ("Residential",)),
    ("Contoso Health", ("Medical",)),
)
FIRST_EN = (
    "James",
    "Mary",
    "Robert",
    "Linda",
    "Michael",
    "Sarah",
    "David",
    "Karen",
    "Chris",
    "Emily",
    "Daniel",
    "Ashley",
    "Kevin",
    "Megan",
    "Brian",
    "Nicole",
)
FIRST_ES = (
    "Maria",
    "Jose",
    "Ana",
    "Luis",
    "Carmen",
    "Carlos",
    "Rosa",
    "Juan",
    "Lucia",
    "Miguel",
    "Sofia",
    "Jorge",
    "Elena",
    "Pedro",
    "Isabel",
    "Diego",
)
LAST_EN = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
)
LAST_ES = (
    "Garcia",
    "Martinez",
    "Rodriguez",
    "Lopez",
    "Hernandez",
    "Gonzalez",
    "Perez",
    "Sanchez",
    "Ramirez",
    "Torres",
    "Flores",
    "Rivera",
    "Gomez",
    "Diaz",
    "Cruz",
    "Reyes",
)
# (state, area codes, ZIP prefix): states over every US mainland zone plus Hawaii and Alaska.
# Phones are the fictional +1 NXX 555-0100..0199 (100 per area code), each handed out once:
# the state's first area code, then its others, then any other (see `FictionalPhones`).
PLACES = (
    ("NY", ("212", "646", "917", "718", "347", "929", "332"), "100"),
    ("FL", ("305", "786", "954", "754"), "331"),
    ("GA", ("404", "470", "678", "770"), "303"),
    ("MA", ("617", "857", "781", "339"), "021"),
    ("TX", ("713", "281", "832", "346"), "770"),
    ("IL", ("312", "872", "773"), "606"),
    ("MN", ("612", "651", "763", "952"), "554"),
    ("CO", ("303", "720", "719"), "802"),
    ("AZ", ("602", "480", "623", "520"), "850"),
    ("CA", ("415", "628", "510", "650"), "941"),
    ("CA", ("213", "323", "310", "818"), "900"),
    ("WA", ("206", "253", "425", "360"), "981"),
    ("NV", ("702", "725"), "891"),
    ("HI", ("808",), "968"),
    ("AK", ("907",), "995"),
    ("NC", ("704", "980", "919", "984"), "282"),
)
AREA_CODES = tuple(dict.fromkeys(code for _, codes, _ in PLACES for code in codes))
FICTIONAL_LINES = 100  # 555-0100 .. 555-0199
DEMO_MAX_ACCOUNTS = len(AREA_CODES) * FICTIONAL_LINES
DPD_WEIGHTS = ((-10, 0), (1, 30), (31, 60), (61, 90), (91, 180), (181, 400))


@dataclass(frozen=True)
class DemoSummary:
    """What `seed_demo` created."""

    accounts: int
    payments: int
    promises: int


class FictionalPhones:
    """Hands out each fictional number (+1 NXX 555-01XX) once, so no two debtors share one."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, areas: tuple[str, ...], line: int) -> str:
        """555-`line` in the first of `areas`, else the next free line there, then elsewhere."""
        for area in dict.fromkeys((*areas, *AREA_CODES)):
            for step in range(FICTIONAL_LINES):
                number = f"+1{area}555{100 + (line - 100 + step) % FICTIONAL_LINES:04d}"
                if number not in self.used:
                    self.used.add(number)
                    return number
        raise ValueError(f"the demo has {DEMO_MAX_ACCOUNTS} fictional phone numbers")


def demo_rows(count: int, today: date, seed: int = 7) -> list[AccountRow]:
    """`count` deterministic, plausible account rows, each debtor with their own phone."""
    if count > DEMO_MAX_ACCOUNTS:
        raise ValueError(f"the demo has at most {DEMO_MAX_ACCOUNTS} accounts (one phone each)")
    rng = random.Random(seed)
    phones = FictionalPhones()
    return [_row(rng, i, today, phones) for i in range(count)]


def _row(rng: random.Random, index: int, today: date, phones: FictionalPhones) -> AccountRow:
    spanish = rng.random() < 0.3
    first = rng.choice(FIRST_ES if spanish else FIRST_EN)
    last = rng.choice(LAST_ES if spanish else LAST_EN)
    state, areas, zip_prefix = rng.choice(PLACES)
    creditor, portfolios = rng.choice(CREDITORS)
    low, high = rng.choice(DPD_WEIGHTS)
    balance = Decimal(rng.randint(4_000, 650_000)) / 100
    original = balance + Decimal(rng.choice((0, 0, rng.randint(1_000, 80_000)))) / 100
    return AccountRow(
        row=index + 2,
        external_ref=f"{creditor.split()[0].upper()}-{100000 + index}",
        creditor=creditor,
        portfolio=rng.choice(portfolios),
        debtor_name=f"{first} {last}",
        phone=phones.take(areas, rng.randint(100, 199)),
        email=None,
        date_of_birth=date(rng.randint(1950, 2003), rng.randint(1, 12), rng.randint(1, 28)),
        postal_code=f"{zip_prefix}{rng.randint(0, 99):02d}",
        region=state,
        country="US",
        timezone=US_STATE_TIMEZONES[state],
        currency="USD",
        balance=balance,
        original_balance=original,
        due_date=today - timedelta(days=rng.randint(low, high)),
        preferred_language="es" if spanish else "en",
        # Half the New York City debtors gave written consent to texts, so the demo shows both
        # sides of that rule (compliance.md B item 33); no random draw, so the rest stays put.
        written_consent_at=_placed(today) if state == "NY" and index % 2 == 0 else None,
    )


def _placed(today: date) -> datetime:
    """A fixed time before `today`: when the demo's consents were collected."""
    return datetime.combine(today - timedelta(days=45), time(15, 0), tzinfo=UTC)


async def seed_demo(session: AsyncSession, now: datetime, count: int = 300) -> DemoSummary:
    """Create the demo portfolio with some payments and promises; running it again is harmless.

    The accounts are upserted like any import (existing ones keep their balances), then each
    demo account gets its payment (reference `demo-{id}`) and promise once: a payment already
    there is neither inserted nor applied again, and an account that already has a promise
    gets no other.
    """
    rows = demo_rows(count, now.date())
    await upsert_accounts(session, rows, now)
    refs = {row.external_ref for row in rows}
    accounts = [a for a in await session.scalars(select(Account).order_by(Account.id))
                if a.external_ref in refs]
    paid = {(p.account_id, p.reference): p
            for p in await session.scalars(select(Payment).where(Payment.source == "demo"))}
    promised = set(await session.scalars(select(Promise.account_id).distinct()))
    rng = random.Random(11)
    payments = promises = 0
    for account in accounts:
        roll = rng.random()
        if roll < 0.25:
            payment = _payment(account, rng, now)  # drawn either way: the next draws stay put
            if (account.id, payment.reference) not in paid:
                session.add(payment)
                _apply(account, payment)
            payments += 1
        elif roll < 0.40:
            promise = _promise(account, rng, now)
            if account.id not in promised:
                session.add(promise)
            promises += 1
    await session.flush()
    return DemoSummary(accounts=len(accounts), payments=payments, promises=promises)


def _payment(account: Account, rng: random.Random, now: datetime) -> Payment:
    amount = min(account.current_balance, Decimal(rng.randint(2_000, 30_000)) / 100)
    paid_at = now - timedelta(days=rng.randint(1, 60))
    return Payment(
        account_id=account.id,
        amount=amount,
        currency=account.currency,
        paid_at=paid_at,
        method=rng.choice(("card", "ach")),
        channel=rng.choice(("sms", "web", None)),
        source="demo",
        reference=f"demo-{account.id}",
        created_at=now,
    )


def _apply(account: Account, payment: Payment) -> None:
    account.current_balance -= payment.amount
    if account.current_balance == 0:
        account.status = "paid"


def _promise(account: Account, rng: random.Random, now: datetime) -> Promise:
    amount = min(account.current_balance, Decimal(rng.randint(2_500, 25_000)) / 100)
    return Promise(
        account_id=account.id,
        amount=amount,
        status="pending",
        channel="sms",
        due_date=now.date() + timedelta(days=rng.randint(1, 14)),
        created_at=now,
    )


async def database_is_empty(session: AsyncSession) -> bool:
    """True when no account exists yet."""
    return not await session.scalar(select(func.count(Account.id)))
