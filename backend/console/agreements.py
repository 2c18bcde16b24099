"""What an agent agrees with a debtor: a promise, plan or settlement the policy allows (beyond its
approval limits only with a supervisor's approval), or a payment link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from backend.console.deps import handoff_service
from backend.console.replies import portfolio_wording, reply_language
from backend.container import Container
from backend.db.models import Account, Conversation, Debtor, PaymentPlan, Promise
from backend.db.models.enums import PlanStatus, PromiseStatus
from backend.services import audit, ledger
from backend.services.geo import debtor_today
from backend.services.handoff import Actor, agent_actor
from backend.services.policy import offers
from backend.services.policy.loader import PolicyError
from backend.services.policy.model import Policy
from backend.services.policy.rules import evaluate
from backend.services.row_locks import hold_account
from bot.facts import Offer, Terms, Verdict
from bot.responses import RenderContext, Renderer


@dataclass(frozen=True)
class Agreed:
    """Recorded, or refused with the policy's reason."""

    ok: bool
    reason: str | None = None
    url: str | None = None
    text: str | None = None  # a payment link's message, in the debtor's language
    replaced_plans: int = 0  # what a recorded plan superseded
    cancelled_promises: int = 0
    approval_resolved: bool = False  # the approval request's handoff was closed with it


# The reason the bot hands a debtor to a person for an offer beyond the approval limits.
NEEDS_APPROVAL = "needs_approval"


class NotAgreeable(Exception):
    """The conversation has no account, the policy service is not installed, or the
    portfolio's stored policy no longer validates."""


async def record_promise(
    container: Container, conversation_id: int, agent_id: int, amount: Decimal, due: date,
    *, may_approve: bool = False,
) -> Agreed:
    """A promise to pay, if the account may be collected, the policy allows it (or the agent
    `may_approve` what needs approval), and it fits beside what is already agreed (the same
    promise twice is recorded once)."""
    async with container.sessions.begin() as session:
        conversation, account = await _load(session, conversation_id)
        refusal = _collection_held(account)
        if refusal is None and await _same_promise(session, account, amount, due):
            return Agreed(True)
        refusal = refusal or await _beside_agreed(session, account, amount)
        if refusal:
            return Agreed(False, refusal)
        terms = _terms(account, container)
        verdict = evaluate(_policy(container, account), Offer("promise", amount, due), terms,
                           currency=account.currency)
        refusal = _refusal(verdict, may_approve)
        if refusal:
            return Agreed(False, refusal)
        origin = _origin(container, conversation, agent_id)
        promise = await ledger.record_promise(session, account, amount, due, origin)
        await _approved(session, origin, account, verdict, "promise", promise_id=promise.id)
        resolved = await _resolve_approval(session, container, conversation,
                                           agent_actor(agent_id, supervisor=may_approve),
                                           f"approved promise {promise.id} recorded")
    return Agreed(True, approval_resolved=resolved)


async def record_plan(
    container: Container, conversation_id: int, agent_id: int, count: int, frequency: str,
    first: date, *, may_approve: bool = False,
) -> Agreed:
    """A plan of `count` installments of the balance, if the policy allows it (or the agent
    `may_approve` what needs approval)."""
    async with container.sessions.begin() as session:
        conversation, account = await _load(session, conversation_id)
        refusal = _collection_held(account)
        if refusal:
            return Agreed(False, refusal)
        policy, terms = _policy(container, account), _terms(account, container)
        if frequency not in policy.frequencies or count < 1:
            return Agreed(False, f"the policy allows {', '.join(policy.frequencies)} plans")
        offer = offers.plan(policy, terms, count, frequency, first, account.currency)
        return await _record_plan_offer(session, container, conversation, account, agent_id,
                                        (policy, terms, offer), may_approve)


async def record_settlement(
    container: Container, conversation_id: int, agent_id: int, amount: Decimal, due: date,
    *, may_approve: bool = False,
) -> Agreed:
    """A lump sum less than the balance, paid by `due`, that settles the account: judged and
    recorded as the bot's accepted settlement offers are (a plan of one installment)."""
    async with container.sessions.begin() as session:
        conversation, account = await _load(session, conversation_id)
        refusal = _collection_held(account)
        if refusal is None and amount >= account.current_balance:
            refusal = ("a settlement is less than the balance; record the whole balance as a "
                       "promise")
        if refusal:
            return Agreed(False, refusal)
        terms = _terms(account, container)
        offer = Offer("settlement", amount, due, hardship=terms.hardship)
        return await _record_plan_offer(session, container, conversation, account, agent_id,
                                        (_policy(container, account), terms, offer), may_approve)


async def _record_plan_offer(
    session: AsyncSession, container: Container, conversation: Conversation, account: Account,
    agent_id: int, judged: tuple[Policy, Terms, Offer], may_approve: bool,
) -> Agreed:
    """Judge a plan or settlement offer and record it (it supersedes what was agreed)."""
    policy, terms, offer = judged
    verdict = evaluate(policy, offer, terms, currency=account.currency)
    refusal = _refusal(verdict, may_approve)
    if refusal:
        return Agreed(False, refusal)
    plans, promises = await _superseded(session, account)
    origin = _origin(container, conversation, agent_id)
    plan = await ledger.record_plan(session, account, offer, origin)
    await _approved(session, origin, account, verdict, offer.kind, plan_id=plan.id)
    resolved = await _resolve_approval(session, container, conversation,
                                       agent_actor(agent_id, supervisor=may_approve),
                                       f"approved {offer.kind} {plan.id} recorded")
    return Agreed(True, replaced_plans=plans, cancelled_promises=promises,
                  approval_resolved=resolved)


async def _resolve_approval(session: AsyncSession, container: Container,
                            conversation: Conversation, actor: Actor, note: str) -> bool:
    """Close the open handoff that asked for this approval (audited `handoff.resolved`, with
    a resolution note): the request is answered, and the debtor's next message goes to the
    bot, which knows the agreement. Any other handoff stays open."""
    service = handoff_service(container)
    handoff = await service.current_handoff(session, conversation.id)
    if handoff is None or handoff.reason != NEEDS_APPROVAL:
        return False
    await service.resolve(session, conversation.id, now=container.clock.now(), note=note,
                          actor=actor)
    return True


def _refusal(verdict: Verdict, may_approve: bool) -> str | None:
    """Why the offer may not be recorded by this agent, or None.

    Beyond the approval limits (`needs_human`) only an agent who may approve agrees; outside
    the policy's hard bounds no one does."""
    if verdict.allowed or (verdict.needs_human and may_approve):
        return None
    if verdict.needs_human:
        what = (verdict.reason or "this agreement").removesuffix(" needs approval")
        return f"{what} needs a supervisor's approval — ask a supervisor to record it"
    return verdict.reason


async def _approved(session: AsyncSession, origin: ledger.Origin, account: Account,
                    verdict: Verdict, kind: str, **record: int) -> None:
    """Beside the ledger's `<kind>.recorded`, who approved it and what needed approval.

    A separate event: the ledger's own audit takes no details beyond its Origin."""
    if verdict.allowed:
        return
    await audit.record(session, occurred_at=origin.now, actor=origin.actor,
                       action=f"{kind}.approved", subject_type="account",
                       subject_id=account.id,
                       data={"conversation_id": origin.conversation_id, **record,
                             "approved_by": origin.actor, "needed": verdict.reason})


async def _superseded(session: AsyncSession, account: Account) -> tuple[int, int]:
    """The active plans and pending promises a new plan cancels (ledger.record_plan)."""
    plans = await session.scalar(select(func.count()).select_from(PaymentPlan).where(
        PaymentPlan.account_id == account.id, PaymentPlan.status == PlanStatus.ACTIVE))
    promises = await session.scalar(select(func.count()).select_from(Promise).where(
        Promise.account_id == account.id, Promise.status == PromiseStatus.PENDING))
    return int(plans or 0), int(promises or 0)


async def payment_link(container: Container, conversation_id: int, amount: Decimal) -> Agreed:
    """A signed payment link for `amount` (at most the balance) and the sentence that carries
    it, in the language of the agent's replies here (`replies.reply_language`)."""
    links = container.services.get("payment_links")
    if links is None:
        raise NotAgreeable("payment links are not installed")
    async with container.sessions() as session:
        conversation, account = await _load(session, conversation_id)
        # The reply's notice and STOP line are framed in this same language.
        language = await reply_language(session, container, conversation)
    if amount <= 0 or amount > account.current_balance:
        return Agreed(False, "the amount must be positive and at most the balance")
    url = links.url_for(account.id, amount)
    ctx = RenderContext(locale=language, currency=account.currency, channel=conversation.channel,
                        wording=portfolio_wording(container, account.portfolio))
    text = _renderer(container).sentence("pay.link", {"amount": amount, "url": url}, ctx)
    return Agreed(True, url=url, text=text)


def _renderer(container: Container) -> Renderer:
    """The app's renderer when the conversations installed one, else the shipped sentences."""
    renderer: Renderer | None = container.services.get("renderer")
    return renderer if renderer is not None else _shipped()


@lru_cache(maxsize=1)
def _shipped() -> Renderer:
    return Renderer()


def _collection_held(account: Account) -> str | None:
    """Why nothing may be agreed on this account now (compliance.md B: stop-states and
    disputes stop collection until a person clears them), or None."""
    if account.collection_stopped:
        states = ", ".join(s for s in account.stop_states if s != "dispute")
        return f"collection has stopped on this account ({states}); a supervisor must clear it"
    if account.dispute:
        return "the account is in dispute: collection waits until the debt is verified"
    return None


async def _beside_agreed(session: AsyncSession, account: Account, amount: Decimal) -> str | None:
    """A promise may not sit beside an active plan, nor take promises past the balance."""
    active_plan = await session.scalar(select(PaymentPlan.id).where(
        PaymentPlan.account_id == account.id, PaymentPlan.status == PlanStatus.ACTIVE))
    if active_plan is not None:
        return "the account has an active payment plan; payments count toward it"
    pending = sum(await session.scalars(select(Promise.amount).where(
        Promise.account_id == account.id, Promise.status == PromiseStatus.PENDING)), Decimal(0))
    if pending and pending + amount > account.current_balance:
        return (f"pending promises already cover {pending} {account.currency} of the "
                f"{account.current_balance} {account.currency} balance")
    return None


async def _same_promise(session: AsyncSession, account: Account, amount: Decimal,
                        due: date) -> bool:
    found = await session.scalar(select(Promise.id).where(
        Promise.account_id == account.id, Promise.status == PromiseStatus.PENDING,
        Promise.amount == amount, Promise.due_date == due))
    return found is not None


async def _load(session: AsyncSession, conversation_id: int) -> tuple[Conversation, Account]:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.account_id is None:
        raise NotAgreeable("this conversation is not linked to an account")
    await hold_account(session, conversation.account_id)  # two submits of one form: one record
    account = await session.get(Account, conversation.account_id,
                                options=[selectinload(Account.portfolio),
                                         selectinload(Account.debtor)])
    if account is None:
        raise NotAgreeable("this conversation is not linked to an account")
    return conversation, account


def _policy(container: Container, account: Account) -> Policy:
    store = container.services.get("policies")
    if store is None:
        raise NotAgreeable("the policy service is not installed")
    try:
        policy: Policy = store.for_portfolio(account.portfolio)
    except PolicyError as exc:  # stored before a rule tightened: no terms to judge against
        raise NotAgreeable("the portfolio's policy no longer validates ("
                           + "; ".join(exc.problems) + "): replace it first") from exc
    return policy


async def local_today(container: Container, conversation_id: int) -> date:
    """The account's debtor's calendar day now (the UTC day without an account)."""
    now = container.clock.now()
    async with container.sessions() as session:
        zone = await session.scalar(
            select(Debtor.timezone).join(Account, Account.debtor_id == Debtor.id)
            .join(Conversation, Conversation.account_id == Account.id)
            .where(Conversation.id == conversation_id))
    return now.date() if zone is None else debtor_today(now, zone)


def _terms(account: Account, container: Container) -> Terms:
    # The debtor's day, as the bot judges offers: near midnight UTC it is not theirs.
    today = debtor_today(container.clock.now(), account.debtor.timezone)
    return Terms(balance=account.current_balance, days_past_due=account.days_past_due(today),
                 today=today, hardship=account.hardship)


def _origin(container: Container, conversation: Conversation, agent_id: int) -> ledger.Origin:
    return ledger.Origin(now=container.clock.now(), actor=f"agent:{agent_id}",
                         channel=conversation.channel, conversation_id=conversation.id)
