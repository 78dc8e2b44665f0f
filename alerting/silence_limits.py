"""Bounds on silences made by API tokens: how long, and how broad.

A token handed to a tool (a chat bot, a script) should not be able to mute a
tenant for years or mute everything by accident: a silence through the API
ends within the tenant's `silence_max_duration` from now, and one whose
matchers select nothing in particular needs an explicit confirmation.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from alerting.matchers import Matcher, MatcherError, MatchType, parse_matchers
from alerting.models import Silence
from alerting.services import SilenceError, silence_create

# Ordinary label values. A matcher that accepts all of them selects nothing in
# particular (`=~".*"`, `=~".+"`, `alertname=~"x|.*"`).
_PROBES = ("x", "0", "HighLatency", "db-01.example.com:9100", "Critical_Team 7", "zqjv")


class SilenceLimitError(SilenceError):
    """The silence is well formed but beyond what the API allows; the message says why."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def matcher_narrows(*, matcher: Matcher) -> bool:
    """Whether the matcher picks some alerts out rather than leaving most of them in.

    `=` with a value and `=~` with a regex that refuses some ordinary value
    narrow; `=""` (the label is absent), `!=` and `!~` only exclude, and
    exclusions alone still silence nearly everything.
    """
    if matcher.type == MatchType.EQUAL:
        return matcher.value != ""
    if matcher.type == MatchType.REGEX:
        return not all(matcher.matches({matcher.name: probe}) for probe in _PROBES)
    return False


def matchers_catch_all(*, matchers: str) -> bool:
    """Whether these matchers would silence (nearly) every alert; False if unparsable."""
    try:
        parsed = parse_matchers(matchers)
    except MatcherError:
        return False  # silence_create says what is wrong with them
    return not any(matcher_narrows(matcher=matcher) for matcher in parsed)


def silence_create_bounded(
    *,
    matchers: str,
    created_by: str,
    max_duration: timedelta,
    confirm_catch_all: bool = False,
    now: datetime | None = None,
    **fields,
) -> Silence:
    """silence_create within the API's bounds (SilenceLimitError otherwise).

    A one-off silence must end within `max_duration` from now, so no token
    mutes for longer than that (nor queues silences back to back). Weekly
    windows are configuration; the API lets only tokens with `write` make
    them, and they are not bounded in time.
    """
    now = now or timezone.now()
    if matchers_catch_all(matchers=matchers) and not confirm_catch_all:
        raise SilenceLimitError(
            "These matchers would silence every alert (none selects a label value, e.g. "
            'team="db" or alertname=~"Disk.*"); send "confirmCatchAll": true to mean it.',
            field="matchers",
        )
    ends_at = fields.get("ends_at")
    if not fields.get("weekdays") and ends_at is not None and ends_at > now + max_duration:
        raise SilenceLimitError(
            f"A silence through the API must end within {_human(max_duration)} from now"
            f" (by {(now + max_duration).isoformat(timespec='seconds')}); this tenant's"
            " silence_max_duration.",
            field="endsAt",
        )
    return silence_create(matchers=matchers, created_by=created_by, **fields)


def _human(duration: timedelta) -> str:
    if duration % timedelta(days=1) == timedelta(0):
        days = duration.days
        return f"{days} day{'s' if days != 1 else ''}"
    hours = duration / timedelta(hours=1)
    return f"{hours:g} hours"
