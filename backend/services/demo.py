"""A realistic demo portfolio: creditors, debtors across US timezones, EN/ES, payments, promises."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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
# (state, area code, ZIP prefix): states over every US mainland zone plus Hawaii and Alaska.
PLACES = (
    ("NY", "212", "100"),
    ("FL", "305", "331"),
    ("GA", "404", "303"),
    ("MA", "617", "021"),
    ("TX", "713", "770"),
    ("IL", "312", "606"),
    ("MN", "612", "554"),
    ("CO", "303", "802"),
    ("AZ", "602", "850"),
    ("CA", "415", "941"),
    ("CA", "213", "900"),
    ("WA", "206", "981"),
    ("NV", "702", "891"),
    ("HI", "808", "968"),
    ("AK", "907", "995"),
    ("NC", "704", "282"),
)
DPD_WEIGHTS = ((-10, 0), (1, 30), (31, 60), (61, 90), (91, 180), (181, 400))


@dataclass(frozen=True)
class DemoSummary:
    """What `seed_demo` created."""

    accounts: int
    payments: int
    promises: int


def demo_rows(count: int, today: date, seed: int = 7) -> list[AccountRow]:
    """`count` deterministic, plausible account rows."""
    rng = random.Random(seed)
    return [_row(rng, i, today) for i in range(count)]


def _row(rng: random.Random, index: int, today: date) -> AccountRow:
    spanish = rng.random() < 0.3
    first = rng.choice(FIRST_ES if spanish else FIRST_EN)
    last = rng.choice(LAST_ES if spanish else LAST_EN)
    state, area, zip_prefix = rng.choice(PLACES)
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
        phone=f"+1{area}555{rng.randint(100, 199):04d}",
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
    )


async def seed_demo(session: AsyncSession, now: datetime, count: int = 300) -> DemoSummary:
    """Create the demo portfolio with some payments and promises."""
    await upsert_accounts(session, demo_rows(count, now.date()), now)
    accounts = list(await session.scalars(select(Account).order_by(Account.id)))
    rng = random.Random(11)
    payments = promises = 0
    for account in accounts:
        roll = rng.random()
        if roll < 0.25:
            _add_payment(session, account, rng, now)
            payments += 1
        elif roll < 0.40:
            _add_promise(session, account, rng, now)
            promises += 1
    await session.flush()
    return DemoSummary(accounts=len(accounts), payments=payments, promises=promises)


def _add_payment(
    session: AsyncSession, account: Account, rng: random.Random, now: datetime
) -> None:
    amount = min(account.current_balance, Decimal(rng.randint(2_000, 30_000)) / 100)
    paid_at = now - timedelta(days=rng.randint(1, 60))
    session.add(
        Payment(
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
    )
    account.current_balance -= amount
    if account.current_balance == 0:
        account.status = "paid"


def _add_promise(
    session: AsyncSession, account: Account, rng: random.Random, now: datetime
) -> None:
    amount = min(account.current_balance, Decimal(rng.randint(2_500, 25_000)) / 100)
    session.add(
        Promise(
            account_id=account.id,
            amount=amount,
            status="pending",
            channel="sms",
            due_date=now.date() + timedelta(days=rng.randint(1, 14)),
            created_at=now,
        )
    )


async def database_is_empty(session: AsyncSession) -> bool:
    """True when no account exists yet."""
    return not await session.scalar(select(func.count(Account.id)))
