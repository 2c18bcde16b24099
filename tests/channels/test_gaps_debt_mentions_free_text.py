"""An agent's free text that tells an unverified person of the debt without the usual words
(a partial creditor name, a bare amount, "payment … late", "pago … pendiente") is read as
mentioning it, and what agents legitimately send before verification is not (item 9)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from backend.services.compliance.debt_mentions import debt_mention
from backend.services.compliance.gate import decide
from bot.messages import Purpose
from bot.responses.catalog import Catalog
from tests.channels.test_gate import NOON_NY, RULES, facts, out

TERMS = ("Zeta Card", "ZC-48213")  # the account's creditor name and reference

MENTIONS_THE_DEBT = [
    # The compliance reviewer's repro, to a person locked out of verification.
    "Hi Tom, this is about your Zeta account. You still need to pay 500 this week, please call us.",
    "Tu pago a Zeta de 500 esta pendiente",
    "Your Zeta Card payment is late",
    # A partial creditor name, any case.
    "A message from ZETA for you.",
    "Hola, le escribimos de parte de Zeta.",
    # A bare amount beside a payment or a deadline.
    "You still need to pay 500 this week.",
    "Please pay 1,250.00 by Friday.",
    "Can you make a payment of 300 today?",
    "We need 500 this week.",
    "Please send 250 tomorrow.",
    "Un abono de 200 esta semana.",
    "Necesitamos 500 hoy.",
    "El monto es 750.",
    # Payment-obligation words.
    "Your payment is late.",
    "Your payment is overdue.",
    "You missed a payment.",
    "The payment is still pending.",
    "You have a late payment with us.",
    "Your bill is past due.",
    "The amount due is on file.",
    "It's due today.",
    "You have an unpaid bill.",
    "You need to pay now.",
    "Please pay it in full.",
    "How much do you owe?",
    "Su pago está pendiente.",
    "Tiene un pago atrasado.",
    "La cuota sigue vencida.",
    "Tiene una cantidad pendiente de pago.",
    "Usted debe 500.",
    "Usted nos debe todavía.",
    "Tiene que pagar esta semana.",
    "Debe pagar hoy.",
    "Su saldo es alto.",
    "Aviso de cobro.",
    "Su cuenta está en mora.",
    "Tiene un impago.",
    # Fragments of an account number.
    "About your account ending 8213.",
    "About your account ending in ****8213.",
    "Sobre su cuenta terminada en 8213.",
    "Card no. 4821 needs attention.",
    "Regarding 48213, please call us.",
]

BENIGN = [
    "Hi Tom!",
    "Hello, good morning.",
    "Hola, buenos días.",
    "Please confirm your date of birth.",
    "Please reply with your date of birth (for example 03/14/1985).",
    "Por favor, confirme su fecha de nacimiento.",
    "Para continuar, debe confirmar su fecha de nacimiento.",
    "Debe usted enviarnos su código postal.",
    "Can you call us back?",
    "Can you call us back at 1-800-555-0100?",
    "Please call 555 0100 today.",
    "¿Puede llamarnos? Puede llamar a cobro revertido.",
    "We received your message.",
    "Hemos recibido su mensaje.",
    "I'm Alice from the team.",
    "Soy Alicia, del equipo.",
    "We'll call you back at 3 pm tomorrow.",
    "We'll call you at 10 tomorrow.",
    "Can we call you on 12/03 at 10:30?",
    "A colleague will call you tomorrow between 9 and 5.",
    "Le llamaremos mañana a las 10.",
    "Le llamaremos el 12 de marzo a las 10:30.",
    "Puede llamarnos de 9 a 5.",
    "Due to the holiday our office opens at 10 on Monday.",
    "Quedo pendiente de su respuesta.",
    "Estamos pendientes de su mensaje.",
    "Please reply within 24 hours.",
    "Thanks, we'll be in touch in 2 days.",
    "What is a good time to reach you, 9 or 11?",
    "Hello from the Parley assistant: your next scheduled payment is in two days.",
    "We take your privacy seriously, so we need to confirm who we're talking to.",
    "Your card was not mentioned; please confirm your ZIP code 10001.",
]


@pytest.mark.parametrize("text", MENTIONS_THE_DEBT)
def test_these_sentences_tell_their_reader_of_the_debt(text: str) -> None:
    assert debt_mention(text, TERMS) is not None, text


@pytest.mark.parametrize("text", BENIGN)
def test_what_an_agent_legitimately_sends_unverified_mentions_no_debt(text: str) -> None:
    assert debt_mention(text, TERMS) is None, debt_mention(text, TERMS)


@pytest.mark.parametrize("word", ["Card", "card", "Bank", "Financial", "Services", "Inc", "LLC"])
def test_a_generic_word_of_the_creditors_name_names_no_one(word: str) -> None:
    terms = ("Zeta Card Bank Financial Services, Inc. LLC", None)
    assert debt_mention(f"Your {word} is ready, please confirm your ZIP.", terms) is None
    assert debt_mention("A note from Zeta.", terms) is not None


def test_the_repro_is_held_from_a_locked_out_person_whatever_the_box_says() -> None:
    named = facts(creditor_name="Zeta Card", account_reference="ZC-48213")
    for text in MENTIONS_THE_DEBT[:3]:
        agent = replace(out(Purpose.AGENT), text=text)  # "Mentions the debt" left unticked
        decision = decide(agent, named, RULES, NOON_NY)
        assert decision.reason == "identity_unverified", text
    benign = replace(out(Purpose.AGENT), text="Can you call us back? I'm Alice from the team.")
    assert decide(benign, named, RULES, NOON_NY).allowed


# bot/responses/en.yml's header: the sentences said before verification, read by the gate too.
BEFORE_VERIFICATION = ("identity.", "who.unverified", "optout.", "optin.", "stop.",
                       "stale.closed", "stale.latest", "wrong_person.", "unknown.", "help.",
                       "dispute.ack_unverified")


@pytest.mark.parametrize("locale", ["en", "es"])
def test_the_bots_sentences_before_verification_still_mention_no_debt(locale: str) -> None:
    said = {key: text for key, text in Catalog().base[locale].items()
            if key.startswith(BEFORE_VERIFICATION) and "_verified" not in key}
    assert said and {k: debt_mention(t, TERMS) for k, t in said.items()
                     if debt_mention(t, TERMS)} == {}
