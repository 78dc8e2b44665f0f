"""The report's charts on the admin overview: the last 7 days (reads only), cached a minute.

The overview is loaded far more often than the report page, so its two tables
(noisiest alerts, MTTA/MTTR by week) are kept in Django's cache per tenant,
day and language for OVERVIEW_CACHE_SECONDS: a refresh storm costs the
database two report queries a minute per tenant. The key also holds the
newest notification, alert group and page ids (three primary-key lookups), so
a new alert, notification or page shows at once; an acknowledgement without a
page shows within the minute. The report page itself always reads afresh.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.utils import timezone, translation

from alerting.reports.periods import period_bounds
from alerting.reports.tables import noise_table, weekly_table

OVERVIEW_DAYS = 7
OVERVIEW_CACHE_SECONDS = 60


def _cache_key(*, first, zone: str) -> str:
    schema = getattr(connection, "schema_name", "") or "public"
    language = translation.get_language() or ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT max(id) FROM receivers_notification),"
            " (SELECT max(id) FROM alerting_alertgroup), (SELECT max(id) FROM escalation_page)"
        )
        newest = ":".join(str(value) for value in cursor.fetchone())
    return f"reports:overview:{schema}:{zone}:{language}:{first.isoformat()}:{newest}"


def overview_report_context() -> dict:
    """What templates/reports/overview_charts.html shows: noisiest alerts and MTTA/MTTR."""
    zone = getattr(connection.tenant, "time_zone", "UTC") or "UTC"
    today = timezone.now().date()
    first = today - timedelta(days=OVERVIEW_DAYS - 1)
    key = _cache_key(first=first, zone=zone)
    tables = cache.get(key)
    if tables is None:
        start, end = period_bounds(first=first, last=today, zone=zone)
        tables = [noise_table(start=start, end=end),
                  weekly_table(start=start, end=end, zone=zone)]
        cache.set(key, tables, OVERVIEW_CACHE_SECONDS)
    return {
        "query": f"date_from={first.isoformat()}&date_to={today.isoformat()}",
        "tables": tables,
    }
