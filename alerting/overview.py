"""The tenant admin's overview: the last day at a glance (reads only)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerting.models import Alert
from alerting.reports.overview import overview_report_context
from escalation.oncall_overview import schedules_on_call_now
from escalation.paging.selectors import gap_count_recent, gap_list_recent, tenant_zone
from receivers.delivery.phone_limits import phone_spend_warning
from receivers.models import Notification, NotificationState

_CHART_W, _CHART_H, _HOURS = 720, 140, 24


def _per_hour(rows, start: datetime) -> list[int]:
    counts = [0] * _HOURS
    for row in rows:
        index = int((row["hour"] - start).total_seconds() // 3600)
        if 0 <= index < _HOURS:
            counts[index] += row["count"]
    return counts


def overview_stats(*, now: datetime | None = None) -> dict:
    """Alerts and notifications per hour for the last day, noisiest alerts, success rates."""
    now = now or timezone.now()
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=_HOURS - 1)
    alerts = _per_hour(
        Alert.objects.filter(first_seen_at__gte=start)
        .annotate(hour=TruncHour("first_seen_at")).values("hour").annotate(count=Count("id")),
        start,
    )
    recent = Notification.objects.filter(created_at__gte=start)
    notifications = _per_hour(
        recent.annotate(hour=TruncHour("created_at")).values("hour").annotate(count=Count("id")),
        start,
    )
    noisy = list(
        recent.values(name=_alertname()).annotate(count=Count("id")).order_by("-count", "name")[:10]
    )
    channels = []
    for row in recent.values("channel").annotate(
        delivered=Count("id", filter=Q(state=NotificationState.DELIVERED)),
        failed=Count("id", filter=Q(state=NotificationState.FAILED)),
        total=Count("id"),
    ).order_by("channel"):
        done = row["delivered"] + row["failed"]
        rate = round(100 * row["delivered"] / done, 1) if done else None
        channels.append({**row, "rate": rate})
    return {
        "hours": [start + timedelta(hours=n) for n in range(_HOURS)],
        "alerts_per_hour": alerts,
        "notifications_per_hour": notifications,
        "noisy": noisy,
        "channels": channels,
    }


def _alertname():
    from django.db.models.fields.json import KeyTextTransform

    return KeyTextTransform("alertname", "alert_group__common_labels")


def overview_chart(*, hours: list[datetime], series: dict[str, list[int]]) -> dict:
    """Bar positions for a plain SVG chart (two series side by side per hour)."""
    peak = max([1, *(value for values in series.values() for value in values)])
    slot = _CHART_W / len(hours)
    bar = slot / (len(series) + 1)
    bars = []
    for s, (name, values) in enumerate(series.items()):
        for i, value in enumerate(values):
            height = round(value / peak * (_CHART_H - 20), 1)
            bars.append({
                "series": name, "x": round(i * slot + s * bar + bar / 2, 1),
                "y": round(_CHART_H - 16 - height, 1), "width": round(bar, 1),
                "height": height, "value": value, "hour": hours[i],
            })
    labels = [
        {"x": round(i * slot + slot / 2, 1), "text": f"{hour:%H}"}
        for i, hour in enumerate(hours) if i % 3 == 0
    ]
    return {"width": _CHART_W, "height": _CHART_H, "bars": bars, "labels": labels,
            "peak": peak, "axis_y": _CHART_H - 16}


def overview_view(site):
    """The page, inside the tenant admin (any member may see it)."""

    def view(request):
        stats = overview_stats()
        chart = overview_chart(
            hours=stats["hours"],
            series={"alerts": stats["alerts_per_hour"],
                    "notifications": stats["notifications_per_hour"]},
        )
        context = {
            **site.each_context(request),
            "title": _("Overview: the last 24 hours"),
            "stats": stats,
            "chart": chart,
            "totals": {"alerts": sum(stats["alerts_per_hour"]),
                       "notifications": sum(stats["notifications_per_hour"])},
            "on_call": schedules_on_call_now(),
            "gaps": gap_list_recent(),
            "gap_count": gap_count_recent(),
            # The gaps' times are shown on the tenant's wall clock, as on a group's page.
            "gap_zone": tenant_zone().key,
            "phone_spend": phone_spend_warning(),
            "report_overview": overview_report_context(),
        }
        return TemplateResponse(request, "admin/overview.html", context)

    return view
