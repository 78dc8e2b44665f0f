"""IANA time zones by name: known names only, never a path the tenant chose."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

MAX_ZONE_NAME = 64


class UnknownZone(ValueError):
    """The name is not an IANA time zone known to this server."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name[:MAX_ZONE_NAME]!r} is not a known IANA time zone")
        self.name = name


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_known(name: str) -> bool:
    return isinstance(name, str) and len(name) <= MAX_ZONE_NAME and name in _known()


def zone_named(name: str) -> ZoneInfo:
    """The zone called `name` (e.g. "Europe/Berlin"); UnknownZone for any other string.

    The name is looked up among the known zones before ZoneInfo opens a
    file, so "../x", "America" (a folder) or a 300-character name are
    reported as unknown, not as an OSError.
    """
    if not zone_known(name):
        raise UnknownZone(name)
    return ZoneInfo(name)
