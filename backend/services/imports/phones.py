"""A fast path to E.164 for plainly written US numbers, exact to `phonenumbers`' answer."""

from __future__ import annotations

import re
from collections.abc import Callable

from phonenumbers.phonemetadata import PhoneMetadata

# A North American number written plainly: optional +1 or 1, then NXX-NXX-XXXX digits.
NANP_RE = re.compile(r"(\+1|1)?([2-9][0-9]{9})")
NANP_PUNCTUATION = str.maketrans("", "", " ().-")
# The number types `phonenumbers` tries, in its order; a number is valid if one matches.
NUMBER_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


def us_e164(raw: str, country: str) -> str | None:
    """E.164 for a plainly written, valid US number; None means "ask `normalize_phone`".

    Gives the answer `phonenumbers.parse` + `is_valid_number` give for these inputs at a
    fraction of the cost (the parse was most of an import's validation time). US is the
    first region of calling code 1 and has no leading-digit rule, so a number valid for the
    US is valid; anything else (Canada, extensions, letters, other countries) takes the full
    path.
    """
    match = NANP_RE.fullmatch(raw.translate(NANP_PUNCTUATION))
    if match is None or (country != "US" and match.group(1) != "+1"):
        return None
    national = match.group(2)
    if not _valid_for_us(national):
        return None
    return f"+1{national}"


def national_validator(region: str, length: int) -> Callable[[str], bool]:
    """`is_valid_number_for_region` for national numbers of `length` digits, as two regexes.

    The same metadata, the same rule (the general pattern and the pattern of at least one
    number type, each only where its possible lengths allow), compiled once instead of
    looked up per call.
    """
    metadata = PhoneMetadata.metadata_for_region(region)
    general_desc = metadata.general_desc if metadata else None
    if metadata is None or general_desc is None or not _allows(general_desc, length):
        return lambda national: False
    general = re.compile(str(general_desc.national_number_pattern))
    # dict.fromkeys: the US lists one pattern for both fixed lines and mobiles.
    patterns = dict.fromkeys(
        str(desc.national_number_pattern)
        for desc in (getattr(metadata, name) for name in NUMBER_TYPES)
        if _allows(desc, length)
    )
    if not patterns:
        return lambda national: False
    typed = re.compile("|".join(f"(?:{p})" for p in patterns))
    return lambda national: bool(general.fullmatch(national) and typed.fullmatch(national))


def _allows(desc: object, length: int) -> bool:
    pattern = getattr(desc, "national_number_pattern", None)
    lengths = getattr(desc, "possible_length", ())
    return bool(pattern) and (not lengths or length in lengths)


_valid_for_us = national_validator("US", 10)
