"""Truncation keeps whole characters, graphemes, tags and entities (pure)."""

from __future__ import annotations

import pytest

from receivers.truncation import (
    chunk_text,
    json_length,
    truncate_html,
    truncate_text,
    utf8_length,
    utf16_length,
)


def test_text_that_fits_is_left_alone():
    assert truncate_text("short", 5) == "short"


def test_long_text_is_cut_with_an_ellipsis_inside_the_limit():
    cut = truncate_text("word " * 100, 20)
    assert len(cut) <= 20
    assert cut.endswith("…")
    assert not cut[:-1].endswith(" ")


@pytest.mark.parametrize(
    "text",
    [
        "👩🏽‍🚀" * 20,  # emoji with skin tone joined by ZWJ: 4 code points each
        "🇫🇷🇩🇪" * 20,  # flags: pairs of regional indicators
        "e\u0301" * 50,  # e + combining acute accent
    ],
)
def test_a_cut_never_splits_a_grapheme(text):
    cluster = {"👩": "👩🏽‍🚀", "🇫": "🇫🇷", "🇩": "🇩🇪", "e": "e\u0301"}
    for limit in range(2, 30):
        cut = truncate_text(text, limit).removesuffix("…")
        assert len(cut) + 1 <= limit
        # The cut is a whole number of clusters: it rebuilds from them exactly.
        assert text.startswith(cut)
        rest = text[len(cut) :]
        assert rest == "" or any(rest.startswith(c) for c in cluster.values())


def test_limits_can_count_utf16_units_or_bytes():
    text = "😀" * 10  # 1 code point, 2 UTF-16 units, 4 UTF-8 bytes each
    assert utf16_length(truncate_text(text, 9, length=utf16_length)) <= 9
    assert utf8_length(truncate_text(text, 13, length=utf8_length)) <= 13
    assert truncate_text(text, 13, length=utf8_length) == "😀😀…"


def test_json_length_counts_escapes_as_sent():
    assert json_length('a"b\n') == 6
    assert json_length("é") == 6  # \u00e9
    assert json_length("😀") == 12  # a surrogate pair of \u escapes


def test_chunks_prefer_line_breaks_and_fit_the_limit():
    text = "\n".join(f"line {n} " + "x" * 40 for n in range(100))
    chunks = list(chunk_text(text, 300))
    assert all(len(chunk) <= 300 for chunk in chunks)
    assert all(chunk.startswith("line") for chunk in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")


def test_html_is_cut_between_tags_and_entities_and_closed_again():
    html = "<b>bold &amp; <i>" + "x &lt; y " * 200 + "</i></b> tail"
    for limit in range(20, 200, 7):
        cut = truncate_html(html, limit)
        assert len(cut) <= limit
        assert cut.endswith("</i></b>") or cut.endswith("…</b>") or cut.endswith("…")
        # No entity is broken: every '&' starts a complete entity.
        for piece in cut.split("&")[1:]:
            assert piece.split(";")[0] in {"amp", "lt"}
        assert cut.count("<b>") == cut.count("</b>")
        assert cut.count("<i>") == cut.count("</i>")


def test_html_that_fits_is_left_alone():
    assert truncate_html("<b>ok</b>", 100) == "<b>ok</b>"


def test_html_respects_utf16_limits():
    html = "<b>" + "😀" * 100 + "</b>"
    cut = truncate_html(html, 50, length=utf16_length)
    assert utf16_length(cut) <= 50
    assert cut.endswith("…</b>")
