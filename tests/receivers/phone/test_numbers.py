"""Numbers are stored in E.164; what is not a number is refused, saying why."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receivers.phone.numbers import country_prefix_clean, longest_prefix, phone_number_clean


@pytest.mark.parametrize(("written", "stored"), [
    ("+49 151 23456789", "+4915123456789"),
    ("0049 (151) 234-567-89", "+4915123456789"),
    ("+1 (415) 555-2671", "+14155552671"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("  +44 7911 123456 ", "+447911123456"),
])
def test_a_number_written_any_way_is_stored_in_e164(written, stored):
    assert phone_number_clean(written) == stored


@pytest.mark.parametrize(("written", "why"), [
    ("", "needed"),
    ("0151 23456789", "country code"),
    ("+49 12", "not a valid phone number"),
    ("+999 1234567", "not a"),
    ("call me maybe", "country code"),
    ("+49 151 2345678" + "9" * 40, "at most 40"),
])
def test_what_is_not_a_number_is_refused_saying_why(written, why):
    with pytest.raises(ValueError, match=why):
        phone_number_clean(written)


@given(st.text(max_size=60))
def test_any_text_is_a_stored_number_or_a_value_error(text):
    try:
        number = phone_number_clean(text)
    except ValueError:
        return
    assert number.startswith("+") and number[1:].isdigit() and len(number) <= 16
    assert phone_number_clean(number) == number


def test_country_prefixes_are_a_plus_and_up_to_six_digits():
    assert country_prefix_clean(" +49 ") == "+49"
    assert country_prefix_clean("+1 212") == "+1212"
    for bad in ("49", "+0", "+", "+1234567", "+4a"):
        with pytest.raises(ValueError, match="not a country prefix"):
            country_prefix_clean(bad)


def test_the_longest_prefix_a_number_starts_with_wins():
    assert longest_prefix("+14155552671", ["+1", "+1415", "+44"]) == "+1415"
    assert longest_prefix("+447911123456", ["+1", "+4"]) == "+4"
    assert longest_prefix("+33612345678", ["+1", "+44"]) is None
