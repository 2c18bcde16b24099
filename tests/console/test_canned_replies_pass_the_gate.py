"""The console's canned replies are sendable where they are offered: none names the debt (the
introduction goes to people not yet verified, the dispute acknowledgement to a disputed
account) and none threatens (compliance.md items 9, 19, 25)."""

from __future__ import annotations

import pytest

from backend.console.canned import load_canned
from backend.services.compliance.debt_mentions import debt_mention, threat_mention

TEXTS = [(c.title, language, text) for c in load_canned() for language, text in c.texts.items()]


@pytest.mark.parametrize(("title", "language", "text"), TEXTS)
def test_a_canned_reply_names_no_debt_and_threatens_nothing(title: str, language: str,
                                                            text: str) -> None:
    assert debt_mention(text.replace("{agent}", "Ana")) is None, (title, language)
    assert threat_mention(text) is None, (title, language)
