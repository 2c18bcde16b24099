"""Where WhatsApp names a number otherwise than E.164: Mexico's legacy mobile "1"."""

from __future__ import annotations

import re
from collections import OrderedDict

# WhatsApp still names many Mexican mobiles in the pre-2019 international form, 52 1 and ten
# digits; E.164, and so every stored contact point, dropped the 1. Mexican area codes never
# begin with 1, so the thirteen-digit form cannot be another number.
_MEXICO_WHATSAPP = re.compile(r"521([0-9]{10})")
REMEMBERED = 10_000  # numbers whose WhatsApp form is kept, most recently seen first


def e164_from_whatsapp(address: str) -> str:
    """The E.164 number ('+' and digits) of a WhatsApp sender, with or without its '+'."""
    digits = address.removeprefix("+")
    if found := _MEXICO_WHATSAPP.fullmatch(digits):
        return f"+52{found[1]}"
    return f"+{digits}"


class WhatsAppNumbers:
    """Senders are read as E.164; replies go back in the form WhatsApp gave for the sender.

    Remembered in this process only (the bot answers in the process that took the webhook);
    a number never seen here, or not lately, goes as stored, which WhatsApp also resolves.
    """

    def __init__(self, size: int = REMEMBERED) -> None:
        self._given: OrderedDict[str, str] = OrderedDict()
        self._size = size

    def inbound(self, given: str) -> str:
        """The E.164 number of the sender WhatsApp named `given`; its form is remembered."""
        e164 = e164_from_whatsapp(given)
        form = "+" + given.removeprefix("+")
        if form == e164:
            self._given.pop(e164, None)  # WhatsApp now names it as stored
            return e164
        self._given[e164] = form
        self._given.move_to_end(e164)
        if len(self._given) > self._size:
            self._given.popitem(last=False)
        return e164

    def outbound(self, e164: str) -> str:
        """The number to send to ('+' and digits): the form WhatsApp gave, else `e164`."""
        return self._given.get(e164, e164)
