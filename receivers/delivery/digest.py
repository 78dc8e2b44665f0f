"""Folding many notifications into one message (pure): digests and grouping.

A digest carries the notifications a rate limit held back; a grouped message
carries alerts of one group that arrived within the grouping window. Both
keep each alert once, the newest state winning.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

DIGEST_NAMES_SHOWN = 10


def alerts_merge(alert_lists: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One list, each alert (by fingerprint) once, in first-seen order, the latest state kept."""
    merged: dict[str, dict[str, Any]] = {}
    for alerts in alert_lists:
        for alert in alerts:
            key = alert.get("fingerprint") or repr(sorted(alert.get("labels", {}).items()))
            merged[key] = alert
    return list(merged.values())


def _alert_name(alert: dict[str, Any]) -> str:
    labels = alert.get("labels", {})
    name = labels.get("alertname", "alert")
    instance = labels.get("instance")
    return f"{name} ({instance})" if instance else name


def digest_text(
    *, alerts: list[dict[str, Any]], since: datetime, now: datetime, language: str = "en"
) -> str:
    """'12 more alerts in the last 5 minutes: A (web-1), B, … and 2 more', in the language."""
    minutes = max(1, math.ceil((now - since).total_seconds() / 60))
    count = len(alerts)
    names = [_alert_name(alert) for alert in alerts[:DIGEST_NAMES_SHOWN]]
    rest = count - len(names)
    with translation.override(language):
        listed = ", ".join(names)
        if rest > 0:
            listed = _("%(names)s and %(rest)d more") % {"names": listed, "rest": rest}
        if minutes == 1:
            head = ngettext(
                "%(count)d more alert in the last minute",
                "%(count)d more alerts in the last minute", count,
            ) % {"count": count}
        else:
            # Two numbers: the alerts' plural form is chosen, the minutes' is always plural.
            head = ngettext(
                "%(count)d more alert in the last %(minutes)d minutes",
                "%(count)d more alerts in the last %(minutes)d minutes", count,
            ) % {"count": count, "minutes": minutes}
        return _("%(head)s: %(listed)s") % {"head": head, "listed": listed}
