"""What PostgreSQL can store as text or jsonb: no NUL, no lone surrogate (pure)."""

from __future__ import annotations

import json
import re
from typing import Any

UNSTORABLE_CHAR = re.compile("[\x00\ud800-\udfff]")
# In JSON text, NUL and lone surrogates can only arrive escaped.
_UNSTORABLE_ESCAPE = re.compile(r"\\u(0000|d[89a-f])", re.IGNORECASE)


def json_text_is_storable(text: str) -> bool:
    """Whether no string in this JSON text holds NUL or a lone surrogate.

    Errs on the side of "no": an escaped backslash before "u0000" counts too.
    """
    return _UNSTORABLE_ESCAPE.search(text) is None


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return UNSTORABLE_CHAR.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_cleaned(key): _cleaned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    return value


def storable_json(value: Any) -> str:
    """JSON PostgreSQL accepts as json or jsonb: NUL and lone surrogates become U+FFFD.

    Validated fields never hold them; unknown fields kept in the raw payload may.
    """
    text = json.dumps(value)
    if not json_text_is_storable(text):
        text = json.dumps(_cleaned(value))
    return text
