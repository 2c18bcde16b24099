"""Where WhatsApp names a number otherwise than E.164: Mexico's legacy mobile "1"."""

from __future__ import annotations

import re

# WhatsApp still names many Mexican mobiles in the pre-2019 international form, 52 1 and ten
# digits; E.164, and so every stored contact point, dropped the 1. Mexican area codes never
# begin with 1, so the thirteen-digit form cannot be another number.
_MEXICO_WHATSAPP = re.compile(r"521([0-9]{10})")
_MEXICO_E164 = re.compile(r"\+52([0-9]{10})")
# The address form (`bot.channels.base.ADDRESS_FORM`) of a number WhatsApp names with the 1.
# A mark, not the number: Parley stores it (in the audit trail) without a phone number.
MEXICO_MOBILE_1 = "mx_mobile_1"
AS_STORED = ""


def e164_from_whatsapp(address: str) -> str:
    """The E.164 number ('+' and digits) of a WhatsApp sender, with or without its '+'."""
    digits = address.removeprefix("+")
    if found := _MEXICO_WHATSAPP.fullmatch(digits):
        return f"+52{found[1]}"
    return f"+{digits}"


def address_form(given: str) -> str | None:
    """How WhatsApp named a sender: MEXICO_MOBILE_1, AS_STORED, or None (no other form exists).

    None for every number that has one form only, so nothing is stored for them.
    """
    digits = given.removeprefix("+")
    if _MEXICO_WHATSAPP.fullmatch(digits):
        return MEXICO_MOBILE_1
    return AS_STORED if _MEXICO_E164.fullmatch(f"+{digits}") else None


def whatsapp_address(e164: str, form: str | None) -> str:
    """The number to send to ('+' and digits): in the form WhatsApp last named it, else `e164`.

    A number WhatsApp never named (a first reminder) goes as stored, which it also resolves.
    """
    if form == MEXICO_MOBILE_1 and (found := _MEXICO_E164.fullmatch(e164)):
        return f"+521{found[1]}"
    return e164
