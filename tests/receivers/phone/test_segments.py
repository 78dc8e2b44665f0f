"""An SMS fits in two segments, counted as the networks count: GSM-7 (its extension table
counting double) or UCS-2, 160/153 and 70/67 a segment."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receivers.phone.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    sms_encoding,
    sms_fit,
    sms_segments,
)


@pytest.mark.parametrize(("text", "encoding", "segments"), [
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("€" * 80, "GSM-7", 1),  # the extension table: two septets each
    ("€" * 81, "GSM-7", 2),
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 3),  # the escape pair is never split
    ("Grüße àé ÄÖÜ" * 10, "GSM-7", 1),
    ("Ж" * 70, "UCS-2", 1),
    ("Ж" * 71, "UCS-2", 2),
    ("Ж" * 134, "UCS-2", 2),
    ("🔥" * 35, "UCS-2", 1),  # a surrogate pair: two units
    ("a" * 66 + "🔥" + "a" * 66, "UCS-2", 3),
    ("", "GSM-7", 0),
])
def test_segments_are_counted_as_the_network_counts(text, encoding, segments):
    assert (sms_encoding(text), sms_segments(text)) == (encoding, segments)


def test_a_short_message_is_sent_as_written():
    text = "[P1] HighErrorRate firing on checkout: 12% 5xx. Reply 1a to acknowledge."
    assert sms_fit(text) == text


def test_typographic_characters_are_written_the_gsm_way_to_keep_the_larger_alphabet():
    fitted = sms_fit("It\u2019s \u201cdown\u201d \u2013 again\u2026")
    assert fitted == "It's \"down\" - again..."
    assert sms_encoding(fitted) == "GSM-7"


def test_a_long_message_is_cut_at_a_word_with_an_ellipsis():
    fitted = sms_fit("checkout is down " * 40)
    assert sms_segments(fitted) == 2
    assert fitted.endswith("...") and fitted[:-3].split()[-1] in {"checkout", "is", "down"}
    assert len(fitted) > 280  # the second segment is used, not wasted


def test_a_long_unicode_message_fits_two_ucs2_segments():
    fitted = sms_fit("Сервис оплаты недоступен. " * 20)
    assert (sms_encoding(fitted), sms_segments(fitted)) == ("UCS-2", 2)
    assert len(fitted) <= 134


gsm_text = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=600)
any_text = st.text(max_size=600)


@settings(max_examples=300, derandomize=True)
@given(st.one_of(gsm_text, any_text))
def test_any_text_fits_two_segments_and_fitting_again_changes_nothing(text):
    fitted = sms_fit(text)
    assert sms_segments(fitted) <= 2
    assert sms_fit(fitted) == fitted


@settings(max_examples=200, derandomize=True)
@given(gsm_text)
def test_gsm_text_stays_gsm(text):
    assert sms_encoding(sms_fit(text)) == "GSM-7"


@settings(max_examples=200, derandomize=True)
@given(st.text(alphabet=sorted(GSM7_BASIC - {"\r", "\n", " "}), min_size=1, max_size=160))
def test_text_within_one_segment_is_not_cut(text):
    assert sms_fit(text) == text
