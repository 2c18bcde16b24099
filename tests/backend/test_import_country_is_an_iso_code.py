"""Import rows: `country` must be an ISO 3166-1 alpha-2 code, not any two letters."""

from __future__ import annotations

import pytest

from backend.services.imports.columns import EXAMPLE_ROWS
from backend.services.imports.rows import AccountRow, validate_row

NO_PHONE = {**EXAMPLE_ROWS[0], "phone": "", "state": "", "timezone": ""}


@pytest.mark.parametrize("code", ["QQ", "ZZ", "XK", "EU", "UK", "AA", "q1", "USA"])
def test_a_code_iso_does_not_assign_to_a_country_is_refused(code: str) -> None:
    errors = validate_row(2, {**NO_PHONE, "country": code})
    assert isinstance(errors, list)
    assert [(e.row, e.column) for e in errors] == [(2, "country")]
    assert "ISO 3166-1" in errors[0].reason


@pytest.mark.parametrize("code", ["US", "us", "MX", "GB", "PR", "AQ", "BV", "SS", "CW"])
def test_assigned_codes_are_accepted(code: str) -> None:
    row = validate_row(2, {**NO_PHONE, "country": code})
    assert isinstance(row, AccountRow) and row.country == code.upper()
