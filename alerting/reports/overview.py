"""The report's charts on the admin overview: the last 7 days (reads only)."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from alerting.reports.periods import period_bounds
from alerting.reports.tables import noise_table, weekly_table

OVERVIEW_DAYS = 7


def overview_report_context() -> dict:
    """What templates/reports/overview_charts.html shows: noisiest alerts and MTTA/MTTR."""
    zone = getattr(connection.tenant, "time_zone", "UTC") or "UTC"
    today = timezone.now().date()
    first = today - timedelta(days=OVERVIEW_DAYS - 1)
    start, end = period_bounds(first=first, last=today, zone=zone)
    return {
        "query": f"date_from={first.isoformat()}&date_to={today.isoformat()}",
        "tables": [noise_table(start=start, end=end),
                   weekly_table(start=start, end=end, zone=zone)],
    }
