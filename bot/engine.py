"""The turn pipeline in DESIGN.md's order: lock, state, stops, ownership, NLU, dialog, effects."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field

from bot.dialogs import card_warning, carrier_keywords, identity, opt_out, router, stop_states
from bot.dialogs.base import DialogState, Outcome, Said, Turn
from bot.dialogs.handoff import note_of
from bot.effects import Handoff
from bot.entity_choice import chosen_entities
from bot.facts import Facts
from bot.messages import Choice, OutboundMessage, Reply
from bot.ports import Outbox, OutboxDecision, TurnContext, TurnStore, TurnUnit
from bot.responses import LOCALES, CatalogError, RenderContext, Renderer
from bot.state import StateStore
from nlu.extractors.calendar import local_today
from nlu.types import INTENTS, IntentScore, Interpreter, Parse

log = logging.getLogger(__name__)
STATE_TTL_SECONDS = 7 * 24 * 3600


class DisclosureError(RuntimeError):
    """A dialog tried to talk about the debt to someone not verified (a bug, never sent)."""


@dataclass(frozen=True)
class SentReply:
    """One reply of a turn, as rendered and as the gate decided."""

    text: str
    choices: tuple[Choice, ...]
    decision: OutboxDecision
    key: str


@dataclass
class TurnResult:
    """What a turn did (the portal chat returns the replies)."""

    message_id: int
    replies: list[SentReply] = field(default_factory=list)
    intent: str | None = None
    effects: list[str] = field(default_factory=list)
    error_id: str | None = None


def state_key(conversation_id: int) -> str:
    """The working-state key of a conversation."""
    return f"conv:{conversation_id}"


class Engine:
    """Runs turns; drives the ports, knows no storage, provider or HTTP."""

    def __init__(
        self,
        store: TurnStore,
        states: StateStore,
        interpreter: Interpreter,
        *,
        outbox: Outbox | None = None,
        renderer: Renderer | None = None,
    ) -> None:
        self.store = store
        self.states = states
        self.interpreter = interpreter
        self.outbox = outbox
        self.renderer = renderer or Renderer()

    async def __call__(self, message_id: int) -> None:
        """The dispatcher's turn handler."""
        await self.handle(message_id)

    async def handle_turn(self, message_id: int) -> None:
        """The turn answering `message_id`, its conversation looked up."""
        await self.handle(message_id)

    async def handle_in_conversation(self, message_id: int, conversation_id: int) -> None:
        """The dispatcher's entry point when it knows the conversation (no lookup needed)."""
        await self.handle(message_id, conversation_id)

    async def handle(self, message_id: int, conversation_id: int | None = None) -> TurnResult:
        """Run the turn answering inbound `message_id` (idempotent: a processed one is a no-op)."""
        conversation_id = conversation_id or await self.store.locate(message_id)
        if conversation_id is None:
            return TurnResult(message_id)
        key = state_key(conversation_id)
        result: TurnResult | None = None
        try:
            async with self.states.lock(key):
                try:
                    result, state = await self._run(message_id, key)
                except Exception:  # the one boundary: a safe reply, the case to a person
                    error_id = uuid.uuid4().hex[:12]
                    log.exception("turn for message %s failed, error id %s", message_id,
                                  error_id)
                    result, state = await self._recover(message_id, error_id), None
                if state is not None:
                    await self.states.set(key, state.to_dict(), STATE_TTL_SECONDS)
        finally:
            # The turn committed its replies: they go even when the state could not be kept
            # (a lock that expired during a slow turn, Redis gone for a moment).
            if result is not None:
                await self._send(result)
        return result

    async def _run(self, message_id: int, key: str) -> tuple[TurnResult, DialogState | None]:
        async with self.store.open(message_id) as unit:
            ctx = unit.context
            if ctx.processed:
                return TurnResult(message_id), None
            state = DialogState.from_dict(await self.states.get(key))
            turn, out = await self._decide(unit, state)
            result = TurnResult(message_id, intent=turn.intent if turn else None)
            results = await unit.apply(out.effects)
            result.effects = [type(e).__name__ for e in out.effects]
            result.error_id = next((e.error_id for e in out.effects
                                    if isinstance(e, Handoff) and e.error_id), None)
            locale = self._locale(turn, state, ctx)
            for said in out.said:
                result.replies.append(await self._submit(unit, said, state, locale, results))
            await self._hand_off_if_unanswered(unit, out, result)
            if turn is None or turn.intent != router.STALE_CHOICE:  # the open ones stay open
                state.choices = _choices_of(result.replies)
            await unit.finish(_summary(result, locale))
            return result, state

    async def _decide(self, unit: TurnUnit, state: DialogState) -> tuple[Turn | None, Outcome]:
        ctx = unit.context
        word = opt_out.keyword(ctx.text)
        if word is not None:
            language = opt_out.keyword_language(word, ctx.text)  # None: the conversation's
            turn = Turn(ctx.text, "opt_out", ctx.received_at, language=language)
            parse = Parse(ctx.text, IntentScore("opt_out", 1.0), extra={"keyword": word})
            await unit.record_parse(parse)
            return turn, opt_out.opt_out(Outcome(state), turn, word=word)
        carrier = carrier_keywords.keyword(ctx.text)
        if carrier is not None:
            # HELP and START are read in every state, so "INFO" is never taken for a yes.
            await unit.record_parse(None)
            return None, carrier_keywords.answer(Outcome(state), carrier, ctx.facts)
        hold = stop_states.held(ctx.facts)
        if hold or (state.stopped and ctx.facts is None):
            if _acknowledged(state, ctx.facts, hold) and ctx.facts is not None:
                return await self._read_after_stop(unit, state)
            if ctx.facts is not None:
                return await self._read_on_hold(unit, state, hold)
            return None, _held(state, ctx, hold, ctx.text)
        # What stopped the bot was cleared by a person (or the debtor opted back in): the
        # stored records, not the dialog's memory of the stop, decide whether it may speak.
        state.stopped = False
        turn = await self._interpret(unit, state)
        if ctx.ownership != "bot":  # read for the agent (and the trainers), but not answered
            await self._keep_answers_private(unit, state, turn)
            standing = ctx.facts.stop_states if ctx.facts else ()
            return None, router.heard_while_owned(state, turn, standing)
        if ctx.facts is not None and _policy_unreadable(ctx.facts):
            await self._keep_answers_private(unit, state, turn)
            return turn, _policy_handoff(state, turn, ctx)
        out = router.step(state, turn, ctx.facts)
        if out.identity_answer:
            await unit.record_parse(None)
        return turn, out

    async def _read_on_hold(self, unit: TurnUnit, state: DialogState, hold: str | None
                            ) -> tuple[Turn | None, Outcome]:
        """A held account's debtor is not answered, but a lawyer, a bankruptcy, a death, a
        dispute or an opt-out written now is recorded on receipt (compliance research items
        8, 13, 25, 27, 44), whoever owns the conversation, and a person is told."""
        ctx = unit.context
        turn = await self._interpret(unit, state)
        await self._keep_answers_private(unit, state, turn)
        facts = ctx.facts
        out = Outcome(state)
        out.do(*router.binding_effects(state, turn, facts.stop_states if facts else ()))
        if not any(isinstance(e, Handoff) for e in out.effects):
            private = facts is not None and identity.is_answer(state, turn, facts)
            out.do(*_held(state, ctx, hold, None if private else turn.text).effects)
        return turn, out

    async def _keep_answers_private(self, unit: TurnUnit, state: DialogState, turn: Turn
                                    ) -> None:
        """A date of birth or a ZIP read while the bot does not answer is nobody's example."""
        facts = unit.context.facts
        if facts is not None and identity.is_answer(state, turn, facts):
            await unit.record_parse(None)

    async def _read_after_stop(self, unit: TurnUnit, state: DialogState
                               ) -> tuple[Turn | None, Outcome]:
        """After the bot acknowledged this address's STOP (or wrong number) it stays silent,
        but a bankruptcy, an attorney, a death, a dispute or a wider opt-out written later
        is still recorded and handed to a person (compliance research items 8, 16, 27, 28)."""
        turn = router.as_stated(await self._interpret(unit, state))
        out = Outcome(state)
        if turn.intent not in router.AFTER_STOP:
            return turn, out
        reading = DialogState.from_dict(state.to_dict())
        reading.stopped = turn.intent == "opt_out"  # opt_out itself records only a wider one
        heard = router.UNGATED[turn.intent](Outcome(reading), turn, reading.is_verified(turn.now))
        out.do(*heard.effects)
        if turn.intent != "opt_out" and not any(isinstance(e, Handoff) for e in heard.effects):
            out.do(Handoff("inbound_after_stop", "legal", 1, note_of(turn.text, turn.intent)))
        return turn, out

    async def _interpret(self, unit: TurnUnit, state: DialogState) -> Turn:
        ctx = unit.context
        if not ctx.text.strip():  # a photo or a voice note without words: nothing to read
            await unit.record_parse(None)
            return Turn(ctx.text, "out_of_scope", ctx.received_at, 0.0, low_confidence=True)
        chosen = _choice_of(ctx, state.choices)
        if chosen is not None:
            intent, entities = chosen
            if intent == router.STALE_CHOICE:  # no reading: a button is no sentence to learn
                await unit.record_parse(None)
                return Turn(ctx.text, intent, ctx.received_at)
            await unit.record_parse(Parse(ctx.text, IntentScore(intent, 1.0), extra=entities))
            return Turn(ctx.text, intent, ctx.received_at, entities=entities)
        parse = await self.interpreter.parse(
            ctx.text, reference_time=ctx.received_at, timezone=ctx.timezone,
            language=self._locale(None, state, ctx),
        )
        await unit.record_parse(parse)
        entities = chosen_entities(parse, local_today(ctx.received_at, ctx.timezone))
        return Turn(
            ctx.text, parse.intent.name, ctx.received_at, parse.intent.confidence,
            entities, parse.language, bool(parse.extra.get("low_confidence")),
        )

    def _locale(self, turn: Turn | None, state: DialogState, ctx: TurnContext) -> str:
        if turn is not None and turn.language in LOCALES:
            state.language = turn.language
        preferred = ctx.facts.preferred_language if ctx.facts else "en"
        return state.language or (preferred if preferred in LOCALES else "en")

    async def _submit(
        self, unit: TurnUnit, said: Said, state: DialogState, locale: str,
        results: dict[str, object], *, shipped: bool = False,
    ) -> SentReply:
        ctx = unit.context
        verified = state.is_verified(ctx.received_at)
        if said.debt and not verified:
            raise DisclosureError(f"{said.reply.key} discusses the debt before verification")
        # Noted as given only below, once the gate lets the reply go.
        disclosure = state.disclosure_due(locale) if said.debt else None
        facts = ctx.facts
        rendered = self.renderer.render(said, RenderContext(
            locale=locale, currency=facts.currency if facts else "USD", channel=ctx.key.channel,
            wording=facts.policy.wording if facts and not shipped else None,
            disclosure=disclosure,
            results=dict(results),
        ))
        outbound = OutboundMessage(
            key=ctx.key, text=rendered.text, purpose=said.purpose, choices=rendered.choices,
            conversation_id=ctx.conversation_id, account_id=ctx.account_id,
            in_reply_to=ctx.message_id, discusses_debt=said.debt, recipient_verified=verified,
            idempotency_key=f"turn:{ctx.message_id}:{said.reply.key}", language=locale,
        )
        decision = await unit.submit(outbound)
        if said.debt and decision.allowed:  # a blocked or deferred reply disclosed nothing yet
            state.disclose(locale)
        return SentReply(rendered.text, rendered.choices, decision, said.reply.key)

    async def _hand_off_if_unanswered(self, unit: TurnUnit, out: Outcome, result: TurnResult
                                      ) -> None:
        """A person takes a turn the bot owned whose every reply the gate blocked for a
        reason a person can answer within (`HAND_OFF_WHEN_BLOCKED`), unless it handed off."""
        if unit.context.ownership != "bot" or any(isinstance(e, Handoff) for e in out.effects):
            return
        reasons = _blocked_reasons(result.replies)
        if not reasons or not reasons <= HAND_OFF_WHEN_BLOCKED:
            return
        note = note_of(None, "every reply was blocked: " + ", ".join(sorted(reasons)))
        await unit.apply([Handoff("reply_blocked", "general", 1, note)])
        result.effects.append(Handoff.__name__)

    async def _recover(self, message_id: int, error_id: str) -> TurnResult:
        result = TurnResult(message_id, error_id=error_id)
        try:
            async with self.store.open(message_id) as unit:
                await unit.apply([Handoff("error", "general", 1, None, error_id)])
                result.replies.append(await self._safe_reply(unit))
                await unit.finish({"error_id": error_id})
        except Exception:  # recovery must never take the worker down; the inbound stays stored
            log.exception("recovery for message %s failed, error id %s", message_id, error_id)
        return result

    async def _safe_reply(self, unit: TurnUnit) -> SentReply:
        """The safe reply in the portfolio's wording, or in the shipped one when that wording
        cannot be rendered (it may be what failed the turn): the handoff must not roll back
        with it."""
        said = Said(Reply("error.safe"))
        try:
            return await self._submit(unit, said, DialogState(), "en", {})
        except (CatalogError, KeyError) as exc:
            log.warning("message %s: safe reply in the shipped wording, the portfolio's "
                        "failed: %s", unit.context.message_id, exc)
            return await self._submit(unit, said, DialogState(), "en", {}, shipped=True)

    async def _send(self, result: TurnResult) -> None:
        ids = [r.decision.message_id for r in result.replies
               if r.decision.allowed and r.decision.message_id is not None]
        if ids and self.outbox is not None:
            await self.outbox.send(ids)


# Why the gate blocked a reply to the debtor's own message where a person, not silence, is the
# answer (backend/services/compliance/gate.py): the debtor wrote and is owed one, and a person
# can give it within the rule. Every other block is silence the law asks for: a hold, a dispute
# or cease (compliance.md A.2 item 8, A.3 item 16, A.5 items 25, 27, G item 75), a wrong party
# (A.2 item 9), an opt-out or a suppressed address (A.3 items 13-15, C items 43-45, 51), a
# Telegram user who never started the bot (E item 62: nobody can reach them); or it stops only
# outreach, never a reply (consent, written consent, no location signal, a paid account,
# hardship). Deferrals (quiet hours, caps) are no block: the reply goes when the window opens.
HAND_OFF_WHEN_BLOCKED = frozenset({
    "identity_unverified",  # A.2 item 9: the words named the debt; a person verifies first
    "threat_of_action",  # A.4 item 19: words no one may send; a person answers without them
    "no_allowed_hours",  # A.1 items 4-5: the debtor's own hours leave none for the bot's reply
    "whatsapp_window_closed",  # D item 54: past the 24 hours only a person's template may go
})


def _blocked_reasons(replies: list[SentReply]) -> frozenset[str]:
    """Why the gate blocked the replies, when it blocked every one (else nothing); the card
    data notice answers nothing the debtor asked, so it does not count as an answer."""
    replies = [r for r in replies if r.key != card_warning.NOTICE]
    if not replies or any(r.decision.status != "blocked" for r in replies):
        return frozenset()
    return frozenset(r.decision.reason or "" for r in replies)


def _policy_unreadable(facts: Facts) -> bool:
    """The stored policy of the account's portfolio, or of another holder's of a shared
    number (whose account the answers may turn out to be), failed validation."""
    return facts.policy_unreadable or any(h.policy_unreadable for h in facts.holders)


def _policy_handoff(state: DialogState, turn: Turn, ctx: TurnContext) -> Outcome:
    """A turn whose portfolio's policy cannot be read: the safe reply and a person, as for a
    failed turn, rather than verify or negotiate on the default's terms, which the creditor
    never set; what binds the collector on receipt is still recorded."""
    error_id = uuid.uuid4().hex[:12]
    log.error("message %s: the portfolio's policy cannot be read, a person takes over, "
              "error id %s", ctx.message_id, error_id)
    out = Outcome(state)
    out.do(Handoff("error", "general", 1, None, error_id))
    standing = ctx.facts.stop_states if ctx.facts else ()
    out.do(*router.heard_while_owned(state, turn, standing).effects)  # escalates the handoff
    return out.say("error.safe")


def _held(state: DialogState, ctx: TurnContext, hold: str | None, words: str | None
          ) -> Outcome:
    """Silence on a held account or address; a person is told while the bot owns it.

    Attorney, bankruptcy, deceased, cease and dispute need a person to read what the debtor
    wrote (an attorney's details, an executor) even after the conversation was handed back,
    so the note quotes `words` (None: an identity answer, quoted to no one); an address whose
    own STOP or "wrong number" the bot acknowledged (or whose own opt-out is on record) stays
    quiet.
    """
    out = Outcome(state)
    if ctx.ownership == "bot" and not _acknowledged(state, ctx.facts, hold):
        note = note_of(words, *([hold] if hold else []))
        out.do(Handoff("inbound_on_hold", "legal", 1, note))
    return out


def _acknowledged(state: DialogState, facts: Facts | None, hold: str | None) -> bool:
    """The bot itself acknowledged this address's STOP or wrong number, or the address's own
    opt-out is on record and nothing else holds the account.

    The record, not the dialog's memory, speaks for a STOP: the memory is gone after a
    restart or its TTL, and a new portal visitor inherits the account's opt-out without it.
    """
    if state.stopped and hold in (None, "opted_out", "wrong_party"):
        return True
    return hold == "opted_out" and facts is not None and not facts.contact_wrong_party and not (
        set(facts.stop_states) & stop_states.HOLDS)


def _chosen(text: str, choices: list[list[str]]) -> tuple[str, dict[str, str]] | None:
    """The choice a reply picks, by its number ("2", "option 2", "the second one"), its label
    or its value (a button's data)."""
    answer = text.strip().rstrip(".!").casefold()
    if {value for _, value in choices} == YES_OR_NO:
        number = _button_number(answer)
    else:
        number = _choice_number(answer, len(choices))
    for n, (label, value) in enumerate(choices, start=1):
        if n == number or answer in (label.casefold(), value.casefold()):
            kind, _, arg = value.partition(":")
            if kind == "option":
                return router.CHOOSE, {"option": arg}
            return arg, {}
    return None


# A button's data as it arrives when its message's choices are no longer the open ones
# (Telegram sends a press on any old message): "option:1", "intent:affirm".
BUTTON_RE = re.compile(r"(option|intent):([a-z_0-9]+)")
# Buttons bound to what was on the table then; menu buttons (balance, a person) still hold.
BOUND_TO_THEIR_MESSAGE = frozenset({"affirm", "deny"})
# A confirmation's two buttons: a yes or no to a sum on a day.
YES_OR_NO = frozenset({"intent:affirm", "intent:deny"})


def _choice_of(ctx: TurnContext, choices: list[list[str]]) -> tuple[str, dict[str, str]] | None:
    """What a reply chooses: a button of ours by its data and its label together (every
    offer's first button is "option:0"; an older message's press carries its own label), a
    typed reply by its words."""
    value = (ctx.choice_value or "").strip()
    if not BUTTON_RE.fullmatch(value):
        return _chosen(ctx.text, choices) or _pressed(ctx.text)
    labels = {data: label for label, data in choices}
    if value in labels and _shows(ctx.text, labels[value]):
        return _chosen(value, choices)
    return _pressed(value)


def _shows(pressed: str, label: str) -> bool:
    """The press carried the label the open choice shows (or a shortened one, as a provider
    may cut it; a bracketed "[option 2]" when the provider sent none: the data decides)."""
    said, shown = pressed.strip().casefold(), label.strip().casefold()
    return said.startswith("[") or bool(said) and (shown.startswith(said) or said == shown)


def _pressed(text: str) -> tuple[str, dict[str, str]] | None:
    """A press on a button of an older message: its intent, or a stale choice when what it
    chose (an option, a yes or no to an offer) is no longer on the table."""
    button = BUTTON_RE.fullmatch(text.strip())
    if button is None:
        return None
    kind, arg = button.groups()
    if kind == "intent" and arg in INTENTS and arg not in BOUND_TO_THEIR_MESSAGE:
        return arg, {}
    return router.STALE_CHOICE, {}


ORDINALS = {
    "first": 1, "1st": 1, "primera": 1, "primero": 1, "second": 2, "2nd": 2, "segunda": 2,
    "segundo": 2, "third": 3, "3rd": 3, "tercera": 3, "tercero": 3, "fourth": 4, "4th": 4,
    "cuarta": 4, "cuarto": 4, "fifth": 5, "5th": 5, "quinta": 5, "quinto": 5,
    # Whole answers that are a number word name a position too ("dos", "la tres").
    "one": 1, "uno": 1, "una": 1, "two": 2, "dos": 2, "three": 3, "tres": 3, "four": 4,
    "cuatro": 4, "five": 5, "cinco": 5,
}
_COURTESY = re.compile(r"[\s,]+(?:please|pls|plz|porfa|porfavor|por favor|thanks|gracias)$")
# Only whole answers that name a position: "I can pay 2" names an amount, not option 2.
_NUMBERED = re.compile(
    r"(?:(?:the|la|el)\s+)?(?:(?:option|opci[oó]n|number|n[uú]mero|#)\s*)?(\d{1,2})")
_BUTTON = re.compile(r"(?:(?:option|opci[oó]n|number|n[uú]mero|#)\s*)?(\d)")
_ORDINAL = re.compile(
    r"(?:(?:the|la|el)\s+)?(?:(?:option|opci[oó]n|number|n[uú]mero)\s+)?(\w+)"
    r"(?:\s+(?:one|option|opci[oó]n))?")


def _choice_number(answer: str, count: int) -> int | None:
    """The 1-based position an answer names, if it names one."""
    answer = _COURTESY.sub("", answer)
    if answer.isdigit():
        return int(answer)
    if (numbered := _NUMBERED.fullmatch(answer)) is not None:
        return int(numbered.group(1))
    if (ordinal := _ORDINAL.fullmatch(answer)) is None:
        return None
    word = ordinal.group(1)
    return count if word in ("last", "ultima", "última", "ultimo", "último") else ORDINALS.get(word)


def _button_number(answer: str) -> int | None:
    """The button a yes or no names by its number: only the digit a text message types for
    it ("1", "option 2"). "The 1st", "el primero", "el dos" name a day of the month there,
    a day other than the one asked about, so the NLU reads them."""
    numbered = _BUTTON.fullmatch(_COURTESY.sub("", answer))
    return None if numbered is None else int(numbered.group(1))


def _choices_of(replies: list[SentReply]) -> list[list[str]]:
    for reply in reversed(replies):
        if reply.choices:
            return [[c.label, c.value] for c in reply.choices]
    return []


def _summary(result: TurnResult, locale: str) -> dict[str, object]:
    summary: dict[str, object] = {
        "intent": result.intent, "effects": result.effects, "locale": locale,
        "replies": [r.key for r in result.replies],
        "statuses": [r.decision.status for r in result.replies],
    }
    if result.error_id is not None:  # as a failed turn's recovery records it
        summary["error_id"] = result.error_id
    return summary

