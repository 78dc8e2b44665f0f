"""Reading a configuration file: YAML with positions, problems pointing into it.

ruamel.yaml keeps the line and column of every key and list item, so each
problem (a YAML error, a schema error, a broken reference) is reported with
its path in the document and where that path is in the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from alerting.config.schema import ConfigDocument

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str
    severity: Literal["error", "warning"] = "error"
    line: int | None = None  # 1-based
    column: int | None = None

    @property
    def dotted(self) -> str:
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text or "(document)"

    def format(self, filename: str = "") -> str:
        where = filename
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        prefix = f"{where}: " if where else ""
        return f"{prefix}{self.severity}: {self.dotted}: {self.message}"


@dataclass
class LoadedConfig:
    """The file as parsed (`raw`, with positions), and the document if it fits the schema."""

    raw: Any = None
    document: ConfigDocument | None = None
    problems: list[Problem] = field(default_factory=list)

    def at(self, path: Path, message: str, severity: str = "error") -> Problem:
        """A problem at `path`, placed at the deepest part of the path found in the file."""
        line, column = position_of(self.raw, path)
        return Problem(path=tuple(path), message=message, severity=severity, line=line,
                       column=column)


def position_of(raw: Any, path: Sequence[str | int]) -> tuple[int | None, int | None]:
    node, found = raw, (None, None)
    for part in path:
        try:
            if isinstance(node, CommentedMap) and part in node:
                line, column = node.lc.value(part) if _is_scalar(node[part]) else node.lc.key(part)
                found = (line + 1, column + 1)
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line, column = node.lc.item(part)
                found = (line + 1, column + 1)
                node = node[part]
            else:
                break
        except (KeyError, TypeError, AttributeError):
            break
    return found


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, CommentedMap | CommentedSeq)


def plain(value: Any) -> Any:
    """ruamel's types (CommentedMap, ScalarFloat, TimeStamp, …) as plain Python."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dt.datetime):
        return dt.datetime.fromisoformat(value.isoformat())
    return value


def yaml_parse(text: str) -> tuple[Any, list[Problem]]:
    """The document with positions, or the YAML error with its line."""
    try:
        return YAML(typ="rt").load(text), []
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        return None, [Problem(path=(), message=f"YAML: {exc.problem or exc.context}",
                              line=line, column=column)]
    except YAMLError as exc:
        return None, [Problem(path=(), message=f"YAML: {exc}")]


def config_load(text: str) -> LoadedConfig:
    """Parse and check against the schema (the `basic` level's first half)."""
    raw, problems = yaml_parse(text)
    loaded = LoadedConfig(raw=raw, problems=problems)
    if problems:
        return loaded
    if raw is None:
        raw = loaded.raw = CommentedMap()
    if not isinstance(raw, dict):
        loaded.problems.append(Problem(path=(), message="the file must be a mapping of sections"))
        return loaded
    try:
        loaded.document = ConfigDocument.model_validate(plain(raw))
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            # Errors of a model validator point at the model itself.
            path = tuple(part for part in error["loc"] if not _is_union_tag(part))
            message = str(error["msg"]).removeprefix("Value error, ")
            loaded.problems.append(loaded.at(path, message))
    return loaded


def _is_union_tag(part: Any) -> bool:
    # pydantic names the branch of `list[...] | None` it tried: not a path element.
    return isinstance(part, str) and part.startswith(("list[", "function-"))
