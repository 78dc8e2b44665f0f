"""Reads of the paging history for the admin: a group's pages, and the gaps, as recorded.

Nothing here recomputes who was on call: the pages and gap events were
written when the step ran (escalation.paging.history), and these read them
back as they are. Every read is of the current tenant's schema.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Prefetch
from django.utils import timezone

from escalation.models import EscalationEvent, EventKind, Page
from escalation.schedules.zones import zone_known, zone_named
from receivers.models import Notification

# The overview lists at most this many of the day's gaps, the newest first; a group's
# page at most this many pages and gaps (a long chain's repeats can add up), the first ones.
RECENT_GAPS_LIMIT = 100
GROUP_ROWS_LIMIT = 200
_FALLBACK_PREFIX = "fallback: "


@dataclass(frozen=True)
class GapNotice:
    """One recorded gap: a level (or its fallback) that found nobody, and whom the level paged."""

    event_id: int
    at: datetime
    alert_group_id: int
    policy_name: str
    level: int | None
    detail: str  # the sentence recorded with the gap, without the "fallback: " mark
    fallback: bool  # the fallback's own targets found nobody (not the level's first ones)
    paged: list[str] = field(default_factory=list)  # "Dave (named by the policy)"


def tenant_zone() -> ZoneInfo:
    """The current tenant's time zone for showing times; UTC if the stored name is unknown."""
    name = getattr(connection.tenant, "time_zone", "UTC")
    return zone_named(name) if zone_known(name) else ZoneInfo("UTC")


def page_count_for_group(*, alert_group_id: int) -> int:
    return Page.objects.filter(alert_group_id=alert_group_id).count()


def gap_count_for_group(*, alert_group_id: int) -> int:
    return EscalationEvent.objects.filter(
        escalation__alert_group_id=alert_group_id, kind=EventKind.GAP
    ).count()


def page_list_for_group(*, alert_group_id: int) -> list[Page]:
    """The group's first pages in the order they started, each with the notifications it sent."""
    return list(
        Page.objects.filter(alert_group_id=alert_group_id)
        .select_related("schedule", "escalation")
        .prefetch_related(Prefetch(
            "notifications",
            queryset=Notification.objects.select_related("contact_method").order_by(
                "created_at", "id"),
        ))
        .order_by("started_at", "id")[:GROUP_ROWS_LIMIT]
    )


def _paged_by_level(escalation_ids: set[int]) -> dict[tuple[int, int], list[str]]:
    paged: dict[tuple[int, int], list[str]] = defaultdict(list)
    if not escalation_ids:
        return paged
    for escalation_id, level, name, target in (
        Page.objects.filter(escalation_id__in=escalation_ids).order_by("started_at", "id")
        .values_list("escalation_id", "level", "person_name", "target")
    ):
        paged[(escalation_id, level)].append(f"{name} ({target})")
    return paged


def _notices(events: list[EscalationEvent]) -> list[GapNotice]:
    paged = _paged_by_level({event.escalation_id for event in events})
    notices = []
    for event in events:
        fallback = event.detail.startswith(_FALLBACK_PREFIX)
        notices.append(GapNotice(
            event_id=event.id, at=event.at, alert_group_id=event.escalation.alert_group_id,
            policy_name=event.escalation.policy_name, level=event.level,
            detail=event.detail.removeprefix(_FALLBACK_PREFIX) if fallback else event.detail,
            fallback=fallback,
            paged=list(paged.get((event.escalation_id, event.level), [])),
        ))
    return notices


def gap_list_for_group(*, alert_group_id: int) -> list[GapNotice]:
    """The gaps recorded for the group's chains, oldest first (the first GROUP_ROWS_LIMIT)."""
    events = list(
        EscalationEvent.objects.filter(
            escalation__alert_group_id=alert_group_id, kind=EventKind.GAP
        ).select_related("escalation").order_by("at", "id")[:GROUP_ROWS_LIMIT]
    )
    return _notices(events)


def gap_list_recent(*, now: datetime | None = None, hours: int = 24) -> list[GapNotice]:
    """The gaps of the last `hours`, newest first, at most RECENT_GAPS_LIMIT of them."""
    since = (now or timezone.now()) - timedelta(hours=hours)
    events = list(
        EscalationEvent.objects.filter(kind=EventKind.GAP, at__gte=since)
        .select_related("escalation").order_by("-at", "-id")[:RECENT_GAPS_LIMIT]
    )
    return _notices(events)


def gap_count_recent(*, now: datetime | None = None, hours: int = 24) -> int:
    """How many gaps the last `hours` recorded (the overview shows the newest ones)."""
    since = (now or timezone.now()) - timedelta(hours=hours)
    return EscalationEvent.objects.filter(kind=EventKind.GAP, at__gte=since).count()
