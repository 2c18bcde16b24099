"""Debtor review, read by the NLU trained on the shipped data (in a temporary model
directory): cancelling a commitment is no opt-out, and a neutral question about fees,
interest or credit reports is no complaint, while real complaints about them still are.
Every phrase here is worded unlike the training examples: the reading must generalise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nlu.types import Interpreter

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


async def _intent(interpreter: Interpreter, text: str) -> str:
    parse = await interpreter.parse(text, reference_time=NOW, timezone="America/New_York")
    return parse.intent.name


@pytest.mark.parametrize("text", [
    "pls cancel my promise to pay",
    "could we cancel that please",
    "i need to cancel it, i have no money right now",
    "quiero cancelar mi promesa de pago",
    "por favor cancelen el acuerdo",
])
async def test_cancelling_a_commitment_asks_for_a_person(interpreter: Interpreter, text: str
                                                         ) -> None:
    # docs/TAXONOMY.md decides by the next action: a person goes over the withdrawal.
    assert await _intent(interpreter, text) == "request_agent"


@pytest.mark.parametrize("text", [
    "cancel these messages pls", "cancelen los mensajes", "quit texting me"])
async def test_cancelling_the_messages_is_still_an_opt_out(interpreter: Interpreter, text: str
                                                          ) -> None:
    assert await _intent(interpreter, text) == "opt_out"


@pytest.mark.parametrize(("text", "intent"), [
    ("would there be any interest or fees if i do payments", "ask_balance"),
    ("I want to pay this off but are there any fees or interest? and will it hurt my credit "
     "score?", "ask_balance"),
    ("me cobran intereses o algun cargo?", "ask_balance"),
    ("if i pay it will my credit report get fixed", "out_of_scope"),
    ("esto me va a afectar en el buró?", "out_of_scope"),
])
async def test_a_neutral_question_about_fees_or_credit_is_no_complaint(
    interpreter: Interpreter, text: str, intent: str
) -> None:
    assert await _intent(interpreter, text) == intent


@pytest.mark.parametrize("text", [
    "stop charging me these ridiculous fees!!",
    "im going to report you guys to the cfpb",
    "your interest charges are criminal",
])
async def test_a_complaint_about_fees_is_still_a_complaint(interpreter: Interpreter, text: str
                                                           ) -> None:
    assert await _intent(interpreter, text) == "complaint"
