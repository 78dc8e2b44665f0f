"""Which environment variables Herald's code reads (pure: parses the source, imports nothing)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

# The settings' own readers (alerting/infra/settings_env.py): name first.
_READERS = {"env_bool", "env_list", "_env_bool", "_env_list", "getenv"}


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def env_names_read(source: str) -> set[str]:
    """Names read by `os.environ.get("X")`, `os.environ["X"]`, `"X" in os.environ`,
    `os.getenv("X")` and the settings' `env_bool/env_list("X")`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            is_get = isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(
                func.value
            )
            named = (isinstance(func, ast.Name) and func.id in _READERS) or (
                isinstance(func, ast.Attribute) and func.attr in _READERS
            )
            if (is_get or named) and (name := _literal(node.args[0])):
                names.add(name)
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            if name := _literal(node.slice):
                names.add(name)
        elif (
            isinstance(node, ast.Compare)
            and any(_is_environ(c) for c in node.comparators)
            and (name := _literal(node.left))
        ):
            names.add(name)
    return names


def env_names_in_files(paths: list[Path]) -> dict[str, set[Path]]:
    found: dict[str, set[Path]] = {}
    for path in paths:
        for name in env_names_read(path.read_text()):
            found.setdefault(name, set()).add(path)
    return found


_TEMPLATE_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=")


def env_template_names(text: str) -> set[str]:
    """The variables an env file template lists, set (`X=...`) or commented out (`#X=...`)."""
    return {m.group(1) for line in text.splitlines() if (m := _TEMPLATE_LINE.match(line.strip()))}
