"""Cease: a written refusal to pay, or a request to end all communication (English, Spanish)."""

from __future__ import annotations

import re
import unicodedata

# compliance.md A.3 item 16 (15 U.S.C. 1692c(c), 12 CFR 1006.6(c)): a refusal to pay or a
# request to cease communication, in writing, stops collection. These say so on their own.
_STATED = (
    r"\bcease\b", r"\bcese[n]?\b", r"\bdesist\b", r"\bdesistan?\b",
    r"\brefus(?:e|ing)\s+to\s+pay\b",
    r"\bnever\s+(?:ever\s+)?(?:going\s+to\s+|gonna\s+)?pay\b(?!\s+(?:late|on\s+time))",
    r"\bwon'?t\s+ever\s+pay\b", r"\b(?:won'?t|will\s+not)\s+pay\b[^.?!]*\bever\b",
    r"\bme\s+niego\s+a\s+pagar", r"\bno\s+pienso\s+pagar",
    r"\b(?:nunca|jamas)\s+(?:les?\s+|lo\s+|se\s+lo\s+)?(?:voy\s+a\s+|vamos\s+a\s+)?pag(?:o|are|ar)\b",
    r"\bno\s+(?:les?\s+|lo\s+|se\s+lo\s+)?(?:voy\s+a\s+)?pag(?:o|are|ar)\b[^.?!]*\b(?:nunca|jamas)\b",
)
# All contact, not one channel: "stop texting me" or "dejen de escribirme" is a channel's
# opt-out (12 CFR 1006.14(h)), "stop contacting me" is a cease; naming a channel keeps it one.
_ALL_CONTACT = (
    r"\b(?:stop|quit)\s+(?:all\s+)?(?:contacting|communicating\s+with)\s+me\b",
    r"\b(?:do\s+not|don'?t|dont|never)\s+(?:ever\s+)?(?:contact|communicate\s+with)\s+me\b"
    r"[^.?!]*\b(?:again|ever)\b",
    r"\b(?:stop|end|halt|no\s+more)\s+(?:all|any)\s+(?:further\s+)?(?:communications?|contact)\b",
    r"\bno\s+(?:me\s+)?vuelvan?\s+a\s+(?:contactar|comunicar|buscar)",
    r"\b(?:dejen|deje)\s+de\s+(?:contactar|comunicar|buscar)",
    r"\b(?:nunca|no)\s+(?:mas\s+)?me\s+(?:contacten|contacte)\b[^.?!]*\b(?:mas|nunca|jamas)\b",
    r"\btoda\s+(?:comunicacion|forma\s+de\s+contacto)\b", r"\btodo\s+contacto\b",
)
STATED = re.compile("|".join(_STATED), re.I)
ALL_CONTACT = re.compile("|".join(_ALL_CONTACT), re.I)
# A message naming a channel asks about that channel ("stop contacting me by text").
CHANNEL = re.compile(
    r"\b(texts?|texting|sms|calls?|calling|phone|e-?mails?|emailing|whats ?app|telegram"
    r"|mensajes?|llamadas?|llamarme|correos?|wasap|here|aqui|this\s+number|este\s+numero)\b",
    re.I,
)


def plain(text: str) -> str:
    """Lower-case ASCII (accents dropped), curly apostrophes made straight."""
    text = text.replace("\u2019", "'")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def stated(text: str) -> bool:
    """True when the message refuses to pay or asks to end all communication."""
    words = plain(text)
    if STATED.search(words):
        return True
    return bool(ALL_CONTACT.search(words)) and not CHANNEL.search(words)
