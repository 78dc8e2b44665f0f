"""What the noise report suggests about an alert (pure): never acted upon, rarely, short-lived."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Fewer firings than this say too little to suggest anything.
MIN_FIRINGS = 5
# Acknowledged this rarely (share of its firings): hardly anyone acts on it.
RARELY = 0.1
# Resolved on its own this soon on average: it flaps rather than reports.
SHORT_LIVED_SECONDS = 300


def noise_suggestion(
    *, fired: int, acknowledged: int, firing_mean: float | None, days: int
) -> str:
    """A sentence for the SRE, or "" when the alert looks acted upon."""
    if fired < MIN_FIRINGS:
        return ""
    span = ngettext("in %(days)d day", "in %(days)d days", days) % {"days": days}
    times = ngettext("fired %(count)d time", "fired %(count)d times", fired) % {"count": fired}
    if acknowledged == 0:
        return _(
            "%(fired)s %(span)s, never acknowledged: raise its threshold, route it to a "
            "ticket queue, or delete it."
        ) % {"fired": times, "span": span}
    if acknowledged / fired < RARELY:
        return _(
            "%(fired)s %(span)s, acknowledged only %(acked)d times: is it actionable?"
        ) % {"fired": times, "span": span, "acked": acknowledged}
    if firing_mean is not None and firing_mean < SHORT_LIVED_SECONDS:
        return _(
            "%(fired)s %(span)s and resolves within %(minutes)d minutes on average: "
            "consider a longer 'for' duration."
        ) % {"fired": times, "span": span, "minutes": max(1, round(firing_mean / 60))}
    return ""
