"""${ENV_VAR} references: how secrets appear in configuration files (pure).

A reference may be the whole value (`${SLACK_URL}`) or part of it
(`Bearer ${API_TOKEN}`). Values are looked up when the file is applied, so
the file in git never holds a secret; exports write references, never values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def env_references(value: str) -> list[str]:
    return _REFERENCE.findall(value)


def has_reference(value: str) -> bool:
    return bool(_REFERENCE.search(value))


def env_resolve(value: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """The value with every reference replaced, and the names that were not set."""
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            missing.append(name)
            return ""
        return env[name]

    return _REFERENCE.sub(replace, value), missing


def env_name_for(*, receiver: str, secret: str) -> str:
    """The variable an export names for a receiver's secret: HERALD_<RECEIVER>_<SECRET>."""
    return re.sub(r"[^A-Z0-9]+", "_", f"HERALD_{receiver}_{secret}".upper()).strip("_")
