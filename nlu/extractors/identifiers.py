"""Phone, case and reference numbers: spans that must yield no amount and no date.

"my lawyer is John Smith, 555-123-4567" must not record amount=555.00, and "case 23-12345"
must not record amount=23.00 (nor a date). The extractors look at one number at a time, so
the spans of such identifiers are found here and every candidate touching them is dropped.

Kept as they were: dates written with dashes or slashes ("12-15", "12-15-2026",
"2026-12-01", "9/30"), fractions ("1/2") and plausible ranges ("50-60", "$50-60",
"100-150", "500-1000"), which still read as their first amount.
"""

from __future__ import annotations

import re

from nlu.extractors.match import Match

# Grouped phone numbers: 555-123-4567, 555.123.4567, (555) 123-4567, 555 123 4567,
# +1 555 123 4567, 1-800-555-1234, +52 55 1234 5678, +44 20 7946 0958, +15551234567.
_PHONE = re.compile(
    r"(?<![\w$€£.,+-])(?:"
    r"\+\d{8,15}"
    r"|(?:\+\d{1,3}[\s.-]?|1[\s.-])?(?:\(\d{2,4}\)[\s.-]?|\d{2,4}[\s.-])\d{3,4}[\s.-]\d{4}"
    r")(?!\w|[.,]\d)"
)
# Digit groups joined by dashes or colons, letters allowed between them: 23-12345,
# 2:24-bk-10234, 555-1234, 55-12-34-56, 123-456-789. No currency symbol in front.
_TOKEN = re.compile(r"(?<![\w$€£.,:/+-])\w+(?:[-:/]\w+)+")
# A case/reference cue just before the token makes it an identifier whatever its shape
# ("in case 50-60 works" is no cue).
_CUE = re.compile(
    r"(?:(?<!\bin )(?<!\ben )\b(?:case|caso)\b\.?"
    r"|\b(?:ref|reference|referencia|account|acct|cuenta|claim|docket|file|expediente|folio|"
    r"ticket|invoice|factura|order|orden|policy|p[oó]liza|loan|confirmation|member|id|"
    r"n[uú]mero|number|num)\b\.?|\bno\.|\bn[º°]|#)"
    r"\s*(?:(?:no|number|num|n[uú]mero|de caso|de referencia)\b\.?\s*)?[:#]?\s*$",
    re.I,
)
_DATE_SHAPE = re.compile(r"\d{1,2}-\d{1,2}(?:-\d{2}|-\d{4})?|\d{4}-\d{1,2}-\d{1,2}|[\d/]+")


def identifier_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of every phone, case or reference number in `text`."""
    spans = [(m.start(), m.end()) for m in _PHONE.finditer(text)]
    for m in _TOKEN.finditer(text):
        if _is_identifier(m.group(0), text[:m.start()]):
            spans.append((m.start(), m.end()))
    return spans


def outside_identifiers(candidates: list[Match], text: str) -> list[Match]:
    """The candidates that touch no phone, case or reference number of `text`."""
    spans = identifier_spans(text)
    return [c for c in candidates if all(c.end <= s or e <= c.start for s, e in spans)]


def _is_identifier(token: str, before: str) -> bool:
    parts = re.split(r"[-:/]", token)
    numbers = [p for p in parts if p.isdigit()]
    if len(numbers) < 2:
        return False  # "50-100k", "3-4pm", "6-month": not a chain of digit groups
    if _CUE.search(before):
        return True  # "case 23-12", "ref 123-456"
    if ":" in token:
        return len(parts) > 2 or len(numbers) < len(parts)  # "2:24-bk-10234", not "5:30"
    if _DATE_SHAPE.fullmatch(token):
        return False  # "12-15", "12-15-2026", "2026-12-01", "9/30", "1/2": dates/fractions
    return not (len(parts) == 2 and len(numbers) == 2 and _plausible_range(*numbers))


def _plausible_range(low: str, high: str) -> bool:
    """'50-60', '100-150', '500-1000' read as amounts; '23-12345', '555-1234' do not."""
    if low.startswith("0") or high.startswith("0") or len(low) > 7 or len(high) > 7:
        return False
    a, b = int(low), int(high)
    if not a < b <= 10 * a:
        return False
    return (len(low) <= 3 and len(high) <= 3) or b % 100 == 0
