"""Fitting text into vendors' limits without breaking it (pure).

Cuts fall between grapheme clusters, so no multibyte character, accent or
emoji sequence is split, and HTML is cut between tags and entities with every
open tag closed again. Vendors count differently (characters, UTF-16 units,
bytes), so each helper takes the `length` it must respect.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import regex

ELLIPSIS = "…"

Length = Callable[[str], int]

_GRAPHEME = regex.compile(r"\X")
# A tag, an entity, or one grapheme of text.
_HTML_TOKEN = regex.compile(r"<[^>]*>|&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);|\X")
_TAG_NAME = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)")
_VOID_TAGS = frozenset({"br", "hr", "img", "input", "meta", "link", "wbr", "source", "col"})


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as Telegram and JavaScript count."""
    return len(text.encode("utf-16-le")) // 2


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def json_length(text: str) -> int:
    """Bytes the string adds inside a JSON document (escapes and \\u sequences)."""
    return len(json.dumps(text)) - 2


def truncate_text(text: str, limit: int, *, length: Length = len, ellipsis: str = ELLIPSIS) -> str:
    """`text` if it fits in `limit`, else its longest grapheme-whole prefix plus ellipsis."""
    if length(text) <= limit:
        return text
    budget = limit - length(ellipsis)
    if budget < 0:
        return ""
    used = 0
    cut = 0
    for match in _GRAPHEME.finditer(text):
        size = length(match.group())
        if used + size > budget:
            break
        used += size
        cut = match.end()
    # A space right before the ellipsis reads as a mistake.
    return (text[:cut].rstrip() if ellipsis else text[:cut]) + ellipsis


def chunk_text(text: str, limit: int, *, length: Length = len) -> Iterator[str]:
    """Split text into pieces of at most `limit`, preferring line breaks, then spaces."""
    rest = text
    while length(rest) > limit:
        head = truncate_text(rest, limit, length=length, ellipsis="")
        if not head:  # a single grapheme longer than the limit: nothing fits
            return
        for separator in ("\n", " "):
            at = head.rfind(separator)
            if at > len(head) // 2:
                head = head[: at + 1]
                break
        yield head.rstrip("\n")
        rest = rest[len(head) :]
    if rest:
        yield rest


def truncate_html(html: str, limit: int, *, length: Length = len, ellipsis: str = ELLIPSIS) -> str:
    """Cut well-formed HTML to `limit`, never inside a tag or entity, closing open tags.

    The result, closing tags and ellipsis included, measures at most `limit`.
    """
    if length(html) <= limit:
        return html
    out: list[str] = []
    used = 0
    open_tags: list[str] = []

    def closing(tags: list[str]) -> int:
        return sum(length(f"</{tag}>") for tag in tags)

    for match in _HTML_TOKEN.finditer(html):
        token = match.group()
        tag = _TAG_NAME.match(token) if token.startswith("<") else None
        after = open_tags
        if tag:
            name = tag.group(2).lower()
            if tag.group(1):
                after = open_tags[:-1] if open_tags and open_tags[-1] == name else open_tags
            elif name not in _VOID_TAGS and not token.endswith("/>"):
                after = [*open_tags, name]
        if used + length(token) + length(ellipsis) + closing(after) > limit:
            break
        out.append(token)
        used += length(token)
        open_tags = after
    out.append(ellipsis)
    out.extend(f"</{tag}>" for tag in reversed(open_tags))
    return "".join(out)
