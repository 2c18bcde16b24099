"""Loading a strategy refuses templates that name the debt, threaten, or hide the opt-out."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from backend.cli.main import app as parley
from backend.workflow.strategy import (
    DEFAULT_STRATEGY_PATH,
    StrategyError,
    parse_strategy,
    parse_strategy_text,
)

DEFAULT = DEFAULT_STRATEGY_PATH.read_text(encoding="utf-8")
COURTESY_EN = ("Hello from the Parley assistant: a friendly note that a payment date is coming "
               "up. Details: {link} Reply STOP to stop messages here.")
COURTESY_ES = ("Hola, le escribe el asistente de Parley: se acerca una fecha de pago. Detalles: "
               "{link} Responda STOP para no recibir más mensajes aquí.")
HELPFUL_EN = ("Hello from the Parley assistant. We can help you find a way forward that fits "
              "your budget: {link} or reply here. Reply STOP to stop messages here.")
REVIEWED = ("RevBank: you owe a past-due debt of $500.00. Pay now or we will take legal "
            "action: {link}. Reply STOP to stop.")
runner = CliRunner()


def _refused(text: str) -> str:
    with pytest.raises(StrategyError) as caught:
        parse_strategy_text(text, "default.yml")
    return str(caught.value)


def _with_courtesy(en: str = COURTESY_EN, es: str = COURTESY_ES) -> str:
    assert COURTESY_EN in DEFAULT and COURTESY_ES in DEFAULT
    return DEFAULT.replace(COURTESY_EN, en, 1).replace(COURTESY_ES, es, 1)


def test_the_shipped_strategy_loads() -> None:
    assert parse_strategy_text(DEFAULT, "default.yml").name == "default"


def test_a_template_about_the_debt_is_refused_naming_the_step_and_the_word() -> None:
    message = _refused(_with_courtesy(en=REVIEWED))
    assert message.startswith("default.yml: segments.0.steps.0: step 'd-3-courtesy': ")
    assert "template 'en' mentions the debt" in message and "'owe'" in message
    assert "A.2 item 9" in message


@pytest.mark.parametrize("en, es, locale, word", [
    ("Pay $500.00 soon: {link} Reply STOP to stop.", COURTESY_ES, "en", "$500.00"),
    ("Pay 500 USD soon: {link} Reply STOP to stop.", COURTESY_ES, "en", "500 USD"),
    ("Pay 1,200.50 € soon: {link} Reply STOP to stop.", COURTESY_ES, "en", "1,200.50 €"),
    ("Your account is overdue: {link} Reply STOP to stop.", COURTESY_ES, "en", "overdue"),
    ("A collector writes: {link} Reply STOP to stop.", COURTESY_ES, "en", "collector"),
    (COURTESY_EN, "Tiene una deuda: {link} Responda STOP para no recibir más.", "es", "deuda"),
    (COURTESY_EN, "Su saldo: {link} Responda STOP para no recibir más.", "es", "saldo"),
    (COURTESY_EN, "Pago vencido: {link} Responda BAJA para no recibir más.", "es", "vencido"),
    (COURTESY_EN, "Aviso de cobranza: {link} Responda ALTO para no recibir más.", "es",
     "cobranza"),
])
def test_amounts_and_debt_words_are_refused_in_both_languages(en: str, es: str, locale: str,
                                                              word: str) -> None:
    message = _refused(_with_courtesy(en=en, es=es))
    assert f"template {locale!r} mentions the debt" in message and repr(word) in message


@pytest.mark.parametrize("threat", ["we will take legal action", "we will sue you",
                                    "expect a lawsuit", "we will garnish your wages",
                                    "you may be arrested"])
def test_a_threat_is_refused(threat: str) -> None:
    message = _refused(_with_courtesy(en=f"Hello, {threat}: {{link}} Reply STOP to stop."))
    assert "step 'd-3-courtesy': template 'en' threatens action" in message
    assert "A.4 item 19" in message
    spanish = _with_courtesy(es="Evite una demanda: {link} Responda STOP para no recibir más.")
    assert "template 'es' threatens action ('demanda')" in _refused(spanish)


def test_a_variants_template_is_checked_too() -> None:
    assert HELPFUL_EN in DEFAULT
    message = _refused(DEFAULT.replace(HELPFUL_EN, "Clear your balance: {link} Reply STOP.", 1))
    assert "step 'd+1' variant 'helpful': template 'en' mentions the debt" in message


@pytest.mark.parametrize("hint", [
    "Hello from the Parley assistant, do not stop now: {link}",
    "STOP! Read this: {link}",
    "Nothing will stop us: {link}",
])
def test_the_word_stop_alone_is_no_opt_out_instruction(hint: str) -> None:
    assert "must tell how to opt out" in _refused(_with_courtesy(en=hint))


@pytest.mark.parametrize("en, es", [
    ("Hi: {link} Text STOP to end these messages.", "Hola: {link} Envíe BAJA para darse de baja."),
    ("Hi: {link} STOP to opt out.", "Hola: {link} Responda ALTO para no recibir más mensajes."),
    ("Hi: {link} reply stop to unsubscribe", "Hola: {link} STOP para dejar de recibir mensajes."),
    ("Hi: {link} Send STOP to stop messages.", "Hola: {link} Escriba STOP para no recibir más."),
])
def test_real_opt_out_instructions_are_accepted(en: str, es: str) -> None:
    assert parse_strategy_text(_with_courtesy(en=en, es=es), "default.yml")


def test_a_version_saved_before_the_checks_still_reads_back() -> None:
    data = yaml.safe_load(_with_courtesy(en="Hello, do not stop now: {link}"))
    with pytest.raises(StrategyError):
        parse_strategy(data)
    step = parse_strategy(data, stored=True).segments[0].steps[0]
    assert step.template["en"] == "Hello, do not stop now: {link}"  # the gate still reads it


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return url


def test_strategy_load_activate_refuses_the_reviewed_template(db_env: str,
                                                              tmp_path: Path) -> None:
    bad = tmp_path / "debt.yml"
    bad.write_text(_with_courtesy(en=REVIEWED), encoding="utf-8")
    refused = runner.invoke(parley, ["strategy", "load", str(bad), "--activate"])
    assert refused.exit_code == 1, refused.output
    assert "step 'd-3-courtesy': template 'en' mentions the debt" in refused.output
    assert runner.invoke(parley, ["strategy", "activate", "default"]).exit_code == 1  # not saved
