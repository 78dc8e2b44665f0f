"""SMS text within a number of segments, counted as the networks count (pure).

A message is GSM-7 when every character is in the GSM 03.38 alphabet (the
characters of its extension table take two septets: an escape and the
character); anything else makes the whole message UCS-2 (UTF-16 units). One
segment holds 160 septets or 70 units; a longer message is split into
segments of 153 septets or 67 units (the rest is the concatenation header),
and an escape pair or a surrogate pair is never split between two.

`sms_fit` first writes typographic characters the GSM way (curly quotes,
dashes, the ellipsis), so one of them does not halve what fits, then cuts at a word with "...".
"""

from __future__ import annotations

import re

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE = {"GSM-7": 160, "UCS-2": 70}
PART = {"GSM-7": 153, "UCS-2": 67}
MAX_SEGMENTS = 2

# What is not GSM-7 but has a GSM spelling: a message keeps the larger alphabet.
_GSM_SPELLINGS = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-", "\u2212": "-",
    "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\t": " ",
    "\u2022": "-", "\u00b7": "-",
})  # fmt: skip
_SPACES = re.compile(r"[ \t\u00a0]+")


def sms_encoding(text: str) -> str:
    """"GSM-7" when every character is in the GSM alphabet (or its extension), else "UCS-2"."""
    return "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "UCS-2"


def _units(text: str, encoding: str) -> list[int]:
    """What each character costs: septets (GSM-7) or UTF-16 units (UCS-2)."""
    if encoding == "GSM-7":
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def sms_segments(text: str) -> int:
    """How many segments the text takes (0 for the empty text)."""
    if not text:
        return 0
    encoding = sms_encoding(text)
    units = _units(text, encoding)
    if sum(units) <= SINGLE[encoding]:
        return 1
    segments, room = 1, PART[encoding]
    for cost in units:  # a character never straddles two segments
        if cost > room:
            segments, room = segments + 1, PART[encoding]
        room -= cost
    return segments


def _gsm_spelling(text: str) -> str:
    text = text.translate(_GSM_SPELLINGS)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n")
                     .replace("\r", "\n").split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def sms_fit(text: str, *, max_segments: int = MAX_SEGMENTS) -> str:
    """The text as an SMS of at most `max_segments` segments: GSM spellings, then cut.

    A cut ends at a word where one is near, followed by "..." (GSM-7 itself).
    Idempotent: a fitted text fits unchanged.
    """
    text = _gsm_spelling(text)
    if sms_segments(text) <= max_segments:
        return text
    ellipsis = "..."
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if sms_segments(text[:middle].rstrip() + ellipsis) <= max_segments:
            low = middle
        else:
            high = middle - 1
    cut = text[:low]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= len(cut) - 20 and space > 0:
        cut = cut[:space]
    return cut.rstrip() + ellipsis
