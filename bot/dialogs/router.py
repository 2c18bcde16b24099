"""One dialog step: which flow answers this turn, declared as data and checked on import."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace

from bot.dialogs import (
    already_paid,
    balance,
    card_warning,
    cease,
    currency,
    dispute,
    extension,
    fallback,
    handoff,
    hardship,
    identity,
    inconvenient,
    moves,
    negotiation,
    opt_out,
    parts,
    pay,
    plan,
    promise,
    small_talk,
    stop_states,
)
from bot.dialogs.base import MENU, YES_NO, DialogState, Outcome, Turn
from bot.dialogs.handoff import hand_off, in_hardship
from bot.effects import Effect, Handoff, Relink, SetContactHours
from bot.facts import Facts
from nlu.types import INTENTS

Handler = Callable[[Outcome, Turn, Facts], Outcome]
CHOOSE = "choose"  # a pseudo-intent: the debtor picked option N of the ones on the table
STALE_CHOICE = "stale_choice"  # a pseudo-intent: a button of a message no longer open

# Handled before verification: they reveal nothing and must never wait for it.
UNGATED: dict[str, Callable[[Outcome, Turn, bool], Outcome]] = {
    "opt_out": lambda out, turn, _: opt_out.opt_out(out, turn),
    "wrong_person": lambda out, turn, _: stop_states.wrong_person(out, turn),
    "attorney_represented": lambda out, turn, verified: stop_states.stop(out, turn, verified),
    "bankruptcy": lambda out, turn, verified: stop_states.stop(out, turn, verified),
    "deceased": lambda out, turn, verified: stop_states.stop(out, turn, verified),
    "dispute_debt": lambda out, turn, verified: dispute.dispute(out, turn, verified=verified),
    "already_paid": lambda out, turn, _: already_paid.already_paid(out, turn),
    "request_agent": lambda out, turn, _: _request_agent(out, turn),
    "complaint": lambda out, turn, _: handoff.complaint(out, turn),
    "thanks": lambda out, turn, _: small_talk.thanks(out),
    "goodbye": lambda out, turn, _: small_talk.goodbye(out),
}

# Still acted on (records, a person) after the bot acknowledged an address's STOP.
AFTER_STOP = frozenset({"opt_out", "attorney_represented", "bankruptcy", "deceased",
                        "dispute_debt", "already_paid", "request_agent", "complaint"})
# What binds the collector on receipt, whoever owns the conversation and whatever already
# holds the account: an opt-out (compliance.md items 44, 75), a lawyer (item 8), a
# bankruptcy (item 27), a death (item 25), a dispute (item 13). Recorded, not answered.
BINDING = frozenset({"opt_out", "attorney_represented", "bankruptcy", "deceased",
                     "dispute_debt"})
# How sure a reading must be to record a binding statement no one answers: "ok thanks, I
# can send proof of payment" (dispute_debt 0.53) to an agent is the agent's to read.
BINDING_CONFIDENCE = 0.7
# The stop-state each binding statement sets.
_SETS = {**stop_states.STOP_INTENTS, "dispute_debt": "dispute"}

def _pay_in_full(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    """The whole balance now, or — with a day to come ("until dec 20 to pay the whole
    thing") — later: that is asking for more time; less than the balance on a day to come
    is a promise of that amount."""
    day = turn.date()
    if day is not None and day > facts.today:
        amount = turn.amount()
        if amount is not None and amount < facts.balance:
            return promise.capture(out, turn, facts)
        return extension.request_extension(out, turn, facts)
    return pay.pay_in_full(out, facts)


# Read as the answer when an identity question is open and the message holds one.
COURTESIES = frozenset({"thanks", "goodbye"})
# Facts about the person that stop the bot; never read from digits alone.
STATEMENTS = frozenset({*stop_states.STOP_INTENTS, "wrong_person"})
# Readings a cease in the same message does not replace: each records more than the
# cease would (a lawyer, a bankruptcy, a dispute, a payment to find) and hands to a person.
KEEP_OVER_CEASE = frozenset({*STATEMENTS, "opt_out", "dispute_debt", "already_paid"})

# Handled once the person is verified.
GATED: dict[str, Handler] = {
    "greet": lambda out, turn, facts: small_talk.greet(out),
    "ask_balance": lambda out, turn, facts: balance.ask_balance(out, facts),
    "ask_who": lambda out, turn, facts: balance.ask_who(out, facts),
    "ask_payment_methods": lambda out, turn, facts: pay.payment_methods(out, facts),
    "pay_in_full": lambda out, turn, facts: _pay_in_full(out, turn, facts),
    "pay_partial": pay.pay_partial,
    "promise_to_pay": promise.capture,
    "request_extension": extension.request_extension,
    "request_payment_plan": plan.request_plan,
    "counter_offer": lambda out, turn, facts: negotiation.counter(
        out, turn, facts, negotiation.kind_from(turn)
    ),
    "hardship": hardship.hardship,
    "affirm": lambda out, turn, facts: fallback.clarify(out, turn),
    "deny": lambda out, turn, facts: fallback.clarify(out, turn),
    "out_of_scope": lambda out, turn, facts: fallback.clarify(out, turn),
}
# What "please cancel the promise" may be read as: a withdrawal a person goes over, whatever
# the reading (never an opt-out, never the clarifying menu).
WITHDRAWAL_READINGS = frozenset({"opt_out", "request_agent", "deny", "out_of_scope"})
# Payment intents an offer to settle for less may be read as.
SETTLE_INTENTS = frozenset({"counter_offer", "pay_partial", "promise_to_pay", "pay_in_full",
                            "affirm", "out_of_scope"})
# Intents an offer in parts ("50 now and 50 next week") may be read as.
PARTS_INTENTS = SETTLE_INTENTS | {"request_extension", "request_payment_plan", "deny"}
# Intents that change the subject even while a flow waits for numbers.
SWITCHES = frozenset({
    "ask_balance", "ask_who", "ask_payment_methods", "request_payment_plan", "hardship",
    "greet", "pay_in_full",
})
# Intents a request to move a pending promise ("monday instead of friday") may be read as;
# those of LOOSE_MOVE_INTENTS only with the new day named ("can i pay monday instead" is
# read as asking how to pay, "how can i pay instead of by card" is not a move).
MOVE_INTENTS = frozenset({"promise_to_pay", "request_extension", "counter_offer",
                          "pay_partial"})
LOOSE_MOVE_INTENTS = frozenset({"out_of_scope", "deny", "ask_payment_methods"})
# Flows of a promise being moved: the day asked for, the move read back.
MOVE_FLOWS = frozenset({"move_day", "move"})
# Flows asking for numbers, with what answers each: read as the answer even when the NLU
# took the message for a courtesy ("friday, thank you" to "On what date can you pay?").
ASKS_FOR: dict[str, Callable[[Turn], object]] = {
    "promise": lambda turn: turn.amount() or turn.date(),
    "partial": Turn.amount,
    "rest_day": Turn.date,
    "move_day": Turn.date,
}
# Flows whose question a yes or no answers.
YES_NO_FLOWS = frozenset({"confirm", "move"})
# Worth answering once verification succeeds.
DEFERRABLE = frozenset(GATED) - {"affirm", "deny", "out_of_scope"}
# Worth answering again when the verification lapsed before the debtor wrote again: a
# greeting's menu is no answer they wait for.
RESUMABLE = DEFERRABLE - {"greet"}


def _check_table() -> None:
    missing = set(INTENTS) - set(UNGATED) - set(GATED)
    overlap = set(UNGATED) & set(GATED)
    if missing or overlap:
        raise RuntimeError(f"dialog table: unhandled {sorted(missing)}, twice {sorted(overlap)}")


_check_table()


def step(state: DialogState, turn: Turn, facts: Facts | None) -> Outcome:
    """The dialog's answer to one turn: replies, effects and the next state."""
    # Said first, before verification too: the inbox deleted card data the debtor typed.
    return card_warning.warned(_answer(state, turn, facts), turn)


def _answer(state: DialogState, turn: Turn, facts: Facts | None) -> Outcome:
    """The answer to the turn's words: the contact hours they name heard first."""
    hours = inconvenient.designation(turn.text)
    if hours is None:
        return _step(state, turn, facts)
    # Heard whatever the intent, before verification too: the acknowledgement names no debt.
    return inconvenient.heard(hours, turn, Outcome(state), lambda t: _step(state, t, facts))


def heard_while_owned(state: DialogState, turn: Turn, standing: Collection[str] = ()
                      ) -> Outcome:
    """What binds the collector even while a person owns the conversation: recorded, never
    answered here (the person answers). Hours called inconvenient (12 CFR 1006.6(b)(1),
    compliance.md items 4-5) and a written cease (A.3 item 16) take effect on receipt, not
    when an agent happens to read them."""
    out = Outcome(state)
    hours = inconvenient.designation(turn.text)
    if hours is not None:
        out.do(SetContactHours(hours.not_before, hours.not_after))
    if cease.stated(turn.text):
        # Read on a copy: the person keeps the conversation and the dialog's memory.
        reading = DialogState.from_dict(state.to_dict())
        ceased = opt_out.opt_out(Outcome(reading), replace(turn, intent="opt_out"))
        out.do(*(e for e in ceased.effects if not isinstance(e, Handoff)))
    else:
        out.do(*binding_effects(state, turn, standing))
    return out


def binding_effects(state: DialogState, turn: Turn, standing: Collection[str] = ()
                    ) -> list[Effect]:
    """The records a binding statement (`BINDING`) makes, read on a copy of the dialog's
    memory: nothing is said, the conversation stays with whoever holds it, and its handoff,
    if any, only escalates the one already open (a person reads the debtor's words). A
    stop-state already `standing` on the account is not recorded twice."""
    turn = as_stated(turn)
    if turn.intent not in BINDING or _SETS.get(turn.intent) in standing:
        return []
    if turn.low_confidence or turn.confidence < BINDING_CONFIDENCE:
        return []  # a guess is left to the person who reads it, not recorded as a fact
    reading = DialogState.from_dict(state.to_dict())
    reading.stopped = False  # an earlier stop does not make this statement old news
    heard = UNGATED[turn.intent](Outcome(reading), turn, reading.is_verified(turn.now))
    return list(heard.effects)


def _step(state: DialogState, turn: Turn, facts: Facts | None) -> Outcome:
    out = Outcome(state)
    verified = state.is_verified(turn.now)
    if verified:
        state.answered = {}  # they wrote again while verified: remembered anew if a request
    if turn.intent == STALE_CHOICE:  # never a misunderstanding: no step toward a handoff
        return fallback.stale_choice(out, facts, verified=verified)
    if not verified and facts is not None and _identity_answer(state, turn, facts):
        return _verify(out, turn, facts)
    if verified and facts is not None and identity.repeats_answer(turn, facts):
        state.drop_offer()  # the menu asks anew: a yes after it is to no offer before it
        return out.say("identity.verified", choices=MENU)  # sent twice: neither offer nor stop
    turn = as_stated(turn)
    if verified and _yes_with_courtesy(state, turn):
        turn = replace(turn, intent="affirm")
    if verified and facts is not None and _answers_asked(state, turn):
        return _verified(out, replace(turn, intent="out_of_scope"), facts)
    if _writes_for_debtor(turn, verified):
        state.clarified = 0
        return stop_states.for_the_debtor(out, turn)
    if verified and turn.intent == "wrong_person":
        return _not_sure_or_not_me(out, turn)
    if turn.intent in WITHDRAWAL_READINGS and _withdraws(turn, facts):
        state.clarified = 0
        return promise.withdraw(out, turn)
    if turn.intent in UNGATED:
        state.clarified = 0
        return UNGATED[turn.intent](out, turn, verified)
    if facts is None:
        return fallback.unknown_sender(out)
    if not verified:
        return _verify(out, turn, facts)
    return _verified(out, turn, facts)


def _request_agent(out: Outcome, turn: Turn) -> Outcome:
    """A person asked for: from the hardship options, noted with the circumstance the debtor
    told (`hardship.to_a_person`), not the "3" that chose the button."""
    if in_hardship(out.state) and out.state.hardship_note:
        return hardship.to_a_person(out, turn)
    return handoff.request_agent(out, turn)


def _withdraws(turn: Turn, facts: Facts | None) -> bool:
    """The debtor takes a commitment back: "cancel the promise", or "cancel that" while a
    promise or plan stands."""
    standing = facts is not None and bool(facts.pending_promises or facts.active_plan)
    return opt_out.withdraws_commitment(turn.text, standing=standing)


def _writes_for_debtor(turn: Turn, verified: bool) -> bool:
    """A relative or carer writing for the debtor ("this is her daughter, I handle her
    bills"), whatever the NLU read. Once verified, only when they say it is not the debtor
    writing: the debtor's own "my mom is ill" is a hardship, not a third party."""
    return (not verified or turn.intent == "wrong_person") and stop_states.writes_for_debtor(turn)


def _identity_answer(state: DialogState, turn: Turn, facts: Facts) -> bool:
    """An answer to the identity question, whatever the NLU read into it: "03/16/1971
    thanks" is no small talk, and a date or a ZIP+4 ("89101-1234") no bankruptcy."""
    if turn.intent in COURTESIES:
        return identity.answers_open_question(state, turn, facts)
    return turn.intent in UNGATED and identity.bare_answer(turn.text)


def _answers_asked(state: DialogState, turn: Turn) -> bool:
    """A courtesy carrying what the open question asks for ("today" read as goodbye, "friday,
    thank you" as thanks, answering "On what date can you pay?"): the answer, as
    `_identity_answer` reads one for an identity question."""
    if turn.intent not in COURTESIES or state.flow is None:
        return False
    wanted = Turn.has_numbers if state.flow.startswith("counter:") else ASKS_FOR.get(state.flow)
    return wanted is not None and bool(wanted(turn))


def _yes_with_courtesy(state: DialogState, turn: Turn) -> bool:
    """"yes thank you" answering a read-back is the yes, whatever the NLU read ("thanks"):
    the message holds nothing but a yes and courtesy (`Turn.courteous_yes`)."""
    return state.flow in YES_NO_FLOWS and turn.intent != "affirm" and turn.courteous_yes()


def _not_sure_or_not_me(out: Outcome, turn: Turn) -> Outcome:
    """A wrong-person reading from someone who passed the identity check. "I don't know" is
    not knowing the answer yet. "This isn't me" contradicts the check: a person looks at it,
    without marking the address wrong party or saying contact stops, and the check lapses."""
    if turn.not_sure():
        if out.state.flow in YES_NO_FLOWS:
            return _ask_yes_or_no(out, turn)
        return out.say("unsure.reply", choices=MENU)  # a question for numbers stays open
    out.state.verified_until = None
    return hand_off(out, "cannot_verify", key="identity.cannot_verify", queue="verification",
                    note="said they are not the debtor after passing the identity check")


def as_stated(turn: Turn) -> Turn:
    """Digits alone state no lawyer, bankruptcy, death or wrong number: such a reading is
    the classifier's guess at the digits, and a stop-state is no guess to act on."""
    if turn.intent in STATEMENTS and identity.bare_answer(turn.text):
        return replace(turn, intent="out_of_scope")
    if turn.intent not in KEEP_OVER_CEASE and cease.stated(turn.text):
        # "I refuse to pay" read as anything else is still a cease in writing (compliance.md
        # A.3 item 16); the opt-out step records it with the channel's opt-out.
        return replace(turn, intent="opt_out")
    return turn


def _verify(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    state = out.state
    if state.verified_until is not None:
        state.verified_until = None
        state.clear_table()  # what was on the table lapses with the check it was offered under
        state.resume_answered(facts.replies_dropped)  # its answer waited and was dropped
        out.say("identity.expired")
    identity.step(out, turn, facts, remember=turn.intent in DEFERRABLE)
    _keep_request_words(out, turn)
    if not state.is_verified(turn.now):
        return out
    pending, entities, words = state.pending, state.pending_entities, state.pending_text
    state.pending, state.pending_entities, state.pending_text = None, {}, None
    if pending is None or pending == "greet":
        return out.say("identity.verified", choices=MENU)
    if any(isinstance(e, Relink) for e in out.effects):
        # Asked against the other holder's account: this turn's facts are still theirs, so
        # the debtor is told, in so many words, to ask again (answered from their own).
        return out.say("identity.verified_ask_again", choices=MENU)
    # The request is answered in its own words, never the identity answer's: a ZIP or a date
    # of birth is no hardship's circumstance, no dispute's reason and no note for a person.
    asked = replace(turn, intent=pending, entities=entities, text=words or "", replayed=True)
    return _verified(out, asked, facts)


def _keep_request_words(out: Outcome, turn: Turn) -> None:
    """Keep the words of the request `identity.step` just remembered (it keeps the intent
    and the entities), for the answer given once the debtor is verified."""
    state = out.state
    remembered = state.pending == turn.intent and state.pending_entities == turn.entities
    if remembered and not out.identity_answer:
        state.pending_text = turn.text


def _verified(out: Outcome, turn: Turn, facts: Facts) -> Outcome:
    if turn.intent not in ("out_of_scope", "affirm", "deny"):
        out.state.clarified = 0
    if turn.intent in RESUMABLE:
        out.state.keep_answered(turn)
    turn = hardship.as_hardship(turn)
    if currency.in_another_currency(turn, facts):
        turn = currency.without_foreign_amount(out, turn, facts)
    if _moves_promise(out.state, turn, facts):
        return moves.move(out, turn, facts)
    if _offers_in_parts(turn):
        return parts.offer(out, turn, facts)
    if _leaves_rest_undated(turn):
        return parts.ask_rest(out, turn, facts)
    continued = _continue_flow(out, turn, facts)
    if continued is not None:
        return continued
    if turn.intent == CHOOSE:
        return negotiation.choose(out, facts, int(turn.entities.get("option", "-1")))
    if _offers_to_settle(turn, facts):
        return negotiation.counter(out, turn, facts, "settlement")
    return GATED[turn.intent](out, turn, facts)


def _offers_to_settle(turn: Turn, facts: Facts) -> bool:
    """Less than the balance, in words that ask to close the debt ("liquido con 900", "si
    pago 800 me perdonan lo demas?"), whatever payment intent the NLU chose."""
    amount = turn.amount()
    return (turn.intent in SETTLE_INTENTS and amount is not None and amount < facts.balance
            and not (turn.installments() or turn.frequency())
            and negotiation.wants_settlement(turn))


def _offers_in_parts(turn: Turn) -> bool:
    """Amounts on several days ("100 el viernes y el resto el 15"), whichever payment intent
    the NLU chose: each part is read, none dropped. A settlement stays one lump sum."""
    return (turn.intent in PARTS_INTENTS and len(turn.parts()) >= 2
            and not negotiation.wants_settlement(turn))


def _moves_promise(state: DialogState, turn: Turn, facts: Facts) -> bool:
    """Another day for a pending promise ("can i pay monday instead of friday"), whichever
    payment intent the NLU chose; a settlement is no move."""
    loose = turn.intent in LOOSE_MOVE_INTENTS and turn.date() is not None
    if not (turn.intent in MOVE_INTENTS or loose) or state.flow in MOVE_FLOWS:
        return False
    offer_open = state.flow in ("confirm", "options") or (state.flow or "").startswith("counter:")
    return (moves.wanted(turn, facts, offer_open=offer_open)
            and not negotiation.wants_settlement(turn))


def _leaves_rest_undated(turn: Turn) -> bool:
    """One part and the rest with no day yet ("50 now and the rest later")."""
    return (turn.intent in PARTS_INTENTS and turn.part_before_rest() is not None
            and not negotiation.wants_settlement(turn))


def _continue_flow(out: Outcome, turn: Turn, facts: Facts) -> Outcome | None:
    flow = out.state.flow
    if flow is None or turn.intent in SWITCHES or turn.intent == CHOOSE:
        return None
    if flow == "confirm":
        return _confirming(out, turn, facts)
    if flow in MOVE_FLOWS:
        return _moving(out, turn, facts)
    if flow == "rest_day" and turn.date():
        return parts.rest_dated(out, turn, facts)
    if flow == "options" and turn.intent == "deny":
        return negotiation.reject(out, facts)
    if flow == "options" and turn.intent == "affirm":
        return out.say("negotiate.which")
    if flow == "promise" and (turn.amount() or turn.date()):
        return promise.capture(out, turn, facts)
    if flow == "partial" and turn.amount():
        return pay.pay_partial(out, turn, facts)
    if flow == "linked" and _just_an_amount(turn):
        return pay.pay_partial(out, turn, facts)  # another amount to pay now, not a plan
    if flow.startswith("counter:") and turn.has_numbers():
        return negotiation.counter(out, turn, facts, _counter_kind(flow.split(":", 1)[1], turn))
    return None


def _just_an_amount(turn: Turn) -> bool:
    """An amount alone ("actually make it 100"), no day, count or frequency to plan with."""
    return (turn.amount() is not None and turn.date() is None and not turn.installments()
            and not turn.frequency() and not negotiation.wants_settlement(turn))


def _counter_kind(asked: str, turn: Turn) -> str:
    """What a counter-offer describes: what was asked for, unless the debtor plainly offers
    something else ("te pago 100 el 15" answering a plan is a promise, not a plan)."""
    if turn.installments() or turn.frequency():
        return "plan" if asked in ("settlement", "promise", "extension") else asked
    if asked == "settlement" or negotiation.wants_settlement(turn):
        return "settlement"  # "1100 by Friday" answering "what amount could you manage?"
    if turn.intent == "promise_to_pay":
        # "el 20" answering "the balance by the 28th" names a day for the balance.
        return "extension" if asked == "extension" and not turn.amount() else "promise"
    if turn.intent == "request_extension" and turn.date() and not turn.amount():
        return "extension"
    return asked


def _moving(out: Outcome, turn: Turn, facts: Facts) -> Outcome | None:
    """An answer about the promise being moved: yes, no, or another day."""
    if turn.date() is not None:
        return moves.another_day(out, turn, facts)
    if turn.intent == "affirm" and out.state.flow == "move":
        return moves.accept(out, facts) if turn.clear_yes() else _ask_yes_or_no(out, turn)
    if turn.intent == "deny":
        return moves.reject(out, facts)
    return None


def _confirming(out: Outcome, turn: Turn, facts: Facts) -> Outcome | None:
    tabled = out.state.tabled()
    if turn.intent == "affirm" and turn.has_numbers() and tabled is not None:
        # "si pero 300": yes to talking, not to the offer as it stands.
        return negotiation.counter(out, turn, facts, _counter_kind(tabled.kind, turn))
    if turn.intent == "affirm" and not turn.clear_yes():
        return _ask_yes_or_no(out, turn)
    if turn.intent == "affirm":
        out.state.clarified = 0
        return parts.accept(out, facts) if out.state.parts else negotiation.accept(out, facts)
    if turn.intent == "deny" and not turn.has_numbers():
        return negotiation.reject(out, facts)
    if turn.has_numbers() and tabled is not None:
        return negotiation.counter(out, turn, facts, _counter_kind(tabled.kind, turn))
    return None


def _ask_yes_or_no(out: Outcome, turn: Turn) -> Outcome:
    """No clear yes ("maybe", "i guess"): nothing recorded, the question asked again; a
    second unclear answer in a row goes to a person, as any misunderstanding does."""
    if out.state.clarified >= fallback.MAX_CLARIFY:
        return fallback.clarify(out, turn)
    out.state.clarified += 1
    return out.say("confirm.unclear", choices=YES_NO)
