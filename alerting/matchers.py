"""Alertmanager-style label matchers (pure).

Semantics follow Alertmanager: a label that is absent matches as the empty
string, so `team=""` selects alerts without a team and `team!=""` those with
one; regular expressions are fully anchored (`=~"db.*"` is `^(?:db.*)$`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.translation import gettext


class MatchType(StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


class MatcherError(ValueError):
    """A matcher that cannot be parsed; the message says why."""


_MATCHER = re.compile(
    r"""^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*
        (?P<op>=~|!~|!=|=)\s*
        (?P<value>"(?:[^"\\]|\\.)*"|[^\s"]*)\s*$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Matcher:
    name: str
    type: MatchType
    value: str
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def create(cls, name: str, type: MatchType | str, value: str) -> Matcher:
        match_type = MatchType(type)
        pattern = None
        if match_type in (MatchType.REGEX, MatchType.NOT_REGEX):
            try:
                pattern = re.compile(f"(?:{value})")
            except re.error as exc:
                raise MatcherError(gettext("%(matcher)s: bad regex (%(error)s)") % {
                    "matcher": f"{name}{match_type}{value!r}", "error": exc}) from None
        return cls(name=name, type=match_type, value=value, _pattern=pattern)

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.type == MatchType.EQUAL:
            return actual == self.value
        if self.type == MatchType.NOT_EQUAL:
            return actual != self.value
        found = self._pattern.fullmatch(actual) is not None
        return found if self.type == MatchType.REGEX else not found

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.type}"{escaped}"'


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_matcher(text: str) -> Matcher:
    """One matcher: `name="value"`, `name!=value`, `name=~"re"`, `name!~"re"`."""
    found = _MATCHER.match(text)
    if not found:
        raise MatcherError(
            gettext('%(text)s is not a matcher like name="value" or name=~"regex"')
            % {"text": repr(text)}
        )
    return Matcher.create(found["name"], found["op"], _unquote(found["value"]))


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside double quotes."""
    parts, current, quoted, escaped = [], [], False, False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def parse_matchers(text: str) -> list[Matcher]:
    """Several matchers, optionally in braces: `{severity="critical", team=~"db|web"}`."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    return [parse_matcher(part) for part in _split_top_level(body)]


def matches_all(matchers: list[Matcher], labels: dict[str, str]) -> bool:
    return all(matcher.matches(labels) for matcher in matchers)
