"""S24: a portfolio's wording may not threaten (compliance.md A.4 item 19): a PUT naming one is
refused with file, key and the words, a stored one is flagged, English and Spanish alike."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest

from backend.db.models import Portfolio
from backend.services.policy import PolicyError, parse_policy
from backend.services.policy import model as policy_model
from backend.services.policy.store import PolicyStore
from bot.responses import catalog
from tests.backend.test_p1_policy_refusals import DEFAULT_FILE, Api, _problems, _put
from tests.backend.test_p1_policy_refusals import api as api  # noqa: F401

# full.confirm's shipped sentence names the balance, so only the threat can be at fault.
OVERRIDES = {
    ("garnish", "en"): (
        'full.confirm: "You can pay the balance of {total} now, or we will garnish your wages. '
        'Shall I send the link?"\n'
    ),
    ("court", "en"): (
        'full.confirm: "Pay the balance of {total} now or we will take legal action. '
        'Shall I send the link?"\n'
    ),
    ("embargo", "es"): (
        'full.confirm: "Puede pagar el saldo de {total} ahora; si no, embargaremos su sueldo. '
        '¿Le envío el enlace?"\n'
    ),
    ("firm", "en"): (
        'full.confirm: "The balance of {total} can be paid today. Shall I send the link?"\n'
    ),
    ("firm", "es"): (
        'full.confirm: "El saldo de {total} se puede pagar hoy. ¿Le envío el enlace?"\n'
    ),
}


@pytest.fixture
def wording_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped sentences with the test's override files, read by the policy."""
    root = tmp_path / "responses"
    root.mkdir()
    for locale in catalog.LOCALES:
        shutil.copy(catalog.ROOT / f"{locale}.yml", root / f"{locale}.yml")
    for (name, locale), text in OVERRIDES.items():
        folder = root / catalog.OVERRIDES / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{locale}.yml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(policy_model, "wordings", functools.partial(catalog.wordings, root))
    monkeypatch.setattr(
        policy_model, "wording_problems", functools.partial(catalog.wording_problems, root=root)
    )
    return root


@pytest.mark.usefixtures("wording_root")
@pytest.mark.parametrize(
    ("wording", "named"),
    [
        ("garnish", "overrides/garnish/en.yml: full.confirm: threatens action ('garnish')"),
        ("court", "overrides/court/en.yml: full.confirm: threatens action ('legal action')"),
        ("embargo", "overrides/embargo/es.yml: full.confirm: threatens action ('embargaremos')"),
    ],
)
async def test_a_wording_that_threatens_is_refused_naming_file_key_and_words(
    api: Api,  # noqa: F811
    wording: str,
    named: str,
) -> None:
    problems = _problems(await _put(api, wording=wording))
    assert len(problems) == 1 and problems[0].startswith(f"wording: {named}"), problems


@pytest.mark.usefixtures("wording_root")
async def test_a_firm_wording_without_threats_is_accepted_in_both_languages(
    api: Api,  # noqa: F811
) -> None:
    saved = await _put(api, wording="firm")
    assert saved.status_code == 200, saved.text


@pytest.mark.usefixtures("wording_root")
def test_a_policy_naming_a_threatening_wording_does_not_load() -> None:
    """The start-up path (load_default) parses the same way: the threat stops it."""
    with pytest.raises(PolicyError, match=r"overrides/embargo/es.yml: full.confirm: threatens"):
        parse_policy({"wording": "embargo"}, str(DEFAULT_FILE))


@pytest.mark.usefixtures("wording_root")
def test_a_stored_policy_naming_a_threatening_wording_goes_to_a_person() -> None:
    store = PolicyStore(parse_policy({}, "default"))
    portfolio = Portfolio(id=7, policy={"wording": "garnish"}, policy_version=3)
    policy, to_a_person = store.for_turn(portfolio)
    assert to_a_person and policy is store.default
