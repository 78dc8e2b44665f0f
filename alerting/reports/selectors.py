# ruff: noqa: S608 - the SQL is built from this module's constants only; every value is a parameter
"""The reports' reads (docs/reports.md defines each figure): one SQL statement per table.

Times are seconds. An incident is an alert group first seen in the period
[start, end); TTA = acknowledged_at - first_seen_at, TTR = resolved_at -
first_seen_at (NULL while not acknowledged / resolved: percentile_cont and
avg leave them out). Percentiles are PostgreSQL's percentile_cont.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from alerting.reports.members import INCIDENTS, MEMBERS, ROUTE_MASKS, TIMES
from alerting.reports.models import SlaTarget
from receivers.severity import SEVERITIES

DIMENSIONS = ("severity", "route", "team", "receiver", "person")
NOISE_LIMIT = 20
# The route bit masks of the definition query (alerting/reports/members.py) hold
# this many routes; more take the plain join (same rows, slower).
ROUTE_BITS = 63


@dataclass(frozen=True)
class TimeRow:
    key: str
    incidents: int
    acknowledged: int
    tta_mean: float | None
    tta_p50: float | None
    tta_p95: float | None
    resolved: int
    ttr_mean: float | None
    ttr_p50: float | None
    ttr_p95: float | None


# For the breakdowns that expand each incident to several keys: the planner
# guesses a few hundred rows where there are a million (DISTINCT over a join),
# then picks per-row index lookups and sorts by key; every step here is bulk.
_BULK = "SET LOCAL enable_nestloop = off; SET LOCAL enable_sort = off"


def _fetch(sql: str, params: dict, *, settings: str = "") -> list[tuple]:
    # JIT compiling these aggregates costs seconds and saves milliseconds, and the
    # percentiles' sorts of 100,000 rows spill to disk under the default work_mem.
    with transaction.atomic(), connection.cursor() as cursor:
        # The report indexes are read whole and stay cached: at the default random
        # page cost the planner prefers reading the table and sorting it again.
        cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '128MB'; "
                       "SET LOCAL random_page_cost = 1.1")
        if settings:
            cursor.execute(settings)
        cursor.execute(sql, params)
        return cursor.fetchall()


def _labels(value) -> dict:
    # Django's psycopg setup hands jsonb over as text to a raw cursor.
    labels = json.loads(value) if isinstance(value, str) else value
    return labels if isinstance(labels, dict) else {}


def _float(value) -> float | None:
    return None if value is None else float(value)


def _pair(values) -> tuple[float | None, float | None]:
    # percentile_cont over an array of fractions: NULL when no row had a value.
    return (None, None) if values is None else (_float(values[0]), _float(values[1]))


def _route_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM alerting_route")
        return cursor.fetchone()[0]


# The receiver and route breakdowns from their rollups (one row per incident and
# key, kept by PostgreSQL: migration 0003): each key's incidents of the period
# are one index-only range scan of (key, first_seen_at) INCLUDE (tta, ttr),
# aggregated as it is read, no join and no hash. The keys: the routes (a
# route's name is read here, so a rename shows at once), and the receiver
# names as recorded, found by a loose scan of the same index (one probe each).
_KEY_FIGURES = """
    SELECT count(*) AS incidents, count(x.tta) AS n_tta, avg(x.tta) AS tta_mean,
           percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY x.tta) AS tta,
           count(x.ttr) AS n_ttr, avg(x.ttr) AS ttr_mean,
           percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY x.ttr) AS ttr
    FROM {table} x
    WHERE x.{column} = k.id AND x.first_seen_at >= %(start)s AND x.first_seen_at < %(end)s"""
_ROLLUP_KEYS = {
    "route": "SELECT r.id, r.name AS key FROM alerting_route r",
    "receiver": """
        WITH RECURSIVE names(id) AS (
            SELECT min(receiver_name) FROM reports_receiver_incident
            UNION ALL
            SELECT (SELECT min(receiver_name) FROM reports_receiver_incident
                    WHERE receiver_name > names.id)
            FROM names WHERE names.id IS NOT NULL)
        SELECT id, id AS key FROM names WHERE id IS NOT NULL""",
}
_ROLLUP_TABLES = {"route": ("reports_route_incident", "route_id"),
                  "receiver": ("reports_receiver_incident", "receiver_name")}


def _rollup_sql(dimension: str) -> str:
    table, column = _ROLLUP_TABLES[dimension]
    return f"""
    SELECT k.key, a.incidents, a.n_tta, a.tta_mean, a.tta, a.n_ttr, a.ttr_mean, a.ttr
    FROM ({_ROLLUP_KEYS[dimension]}) k
    CROSS JOIN LATERAL ({_KEY_FIGURES.format(table=table, column=column)}) a
    WHERE a.incidents > 0
    ORDER BY 2 DESC, 1 LIMIT 200
    """


def _tables_sql(dimension: str) -> str:
    members = MEMBERS[dimension]
    if dimension == "severity":
        source = f"{INCIDENTS} CROSS JOIN LATERAL (SELECT i.severity AS key) m"
    elif dimension == "person":  # one key per incident, read with its times
        source = f"({members}) i CROSS JOIN LATERAL (SELECT i.key) m"
    elif dimension == "route" and _route_count() <= ROUTE_BITS:  # times joined per group
        source = f"({ROUTE_MASKS}) i CROSS JOIN LATERAL (SELECT i.key) m"
    else:
        source = f"({members}) m JOIN {TIMES} ON i.id = m.id"
    # Hashed per key (an incident reached by every receiver is a row per receiver:
    # sorting all those rows by key was most of the time), each key's times kept
    # in an array, the only work per row; then each array read once for its
    # count, mean and both percentiles (one sort).
    return f"""
    SELECT a.key, a.incidents, tta.n, tta.mean, tta.p, ttr.n, ttr.mean, ttr.p
    FROM (
        SELECT COALESCE(m.key, '') AS key, count(*) AS incidents,
               array_agg(i.tta) AS ttas, array_agg(i.ttr) AS ttrs
        FROM {source}
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 200
    ) a
    CROSS JOIN LATERAL (
        SELECT count(x) AS n, avg(x) AS mean,
               percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY x) AS p
        FROM unnest(a.ttas) x) tta
    CROSS JOIN LATERAL (
        SELECT count(x) AS n, avg(x) AS mean,
               percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY x) AS p
        FROM unnest(a.ttrs) x) ttr
    ORDER BY 2 DESC, 1
    """


def response_times(*, dimension: str, start: datetime, end: datetime,
                   from_tables: bool = False) -> list[TimeRow]:
    """MTTA and MTTR (mean, p50, p95) per key of one dimension, incidents of [start, end).

    The receiver and route breakdowns read their rollups; `from_tables` reads
    the definition queries instead (the reference the tests compare them to).
    """
    if dimension not in MEMBERS:
        raise ValueError(f"unknown dimension {dimension!r}")
    rollup = dimension in _ROLLUP_TABLES and not from_tables
    sql = _rollup_sql(dimension) if rollup else _tables_sql(dimension)
    bulk = not rollup and dimension in ("route", "receiver", "team")
    return [
        TimeRow(key, incidents, acknowledged, _float(tta_mean), *_pair(tta),
                resolved, _float(ttr_mean), *_pair(ttr))
        for key, incidents, acknowledged, tta_mean, tta, resolved, ttr_mean, ttr
        in _fetch(sql, {"start": start, "end": end}, settings=_BULK if bulk else "")
    ]


@dataclass(frozen=True)
class SlaRow:
    severity: str
    target_minutes: int | None
    incidents: int
    within: int
    late: int
    never: int

    @property
    def share(self) -> float | None:
        return None if self.target_minutes is None or not self.incidents else (
            self.within / self.incidents
        )


def sla_shares(*, start: datetime, end: datetime) -> list[SlaRow]:
    """Per severity: incidents acknowledged within the tenant's target, later, or never."""
    targets = dict(SlaTarget.objects.values_list("severity", "acknowledge_within_minutes"))
    counts = {
        row[0]: row[1:]
        for row in _fetch(
            f"""WITH t(severity, seconds) AS (
                    SELECT * FROM unnest(%(severities)s::text[], %(seconds)s::float8[]))
                SELECT i.severity, count(*),
                       count(*) FILTER (WHERE i.tta <= t.seconds),
                       count(*) FILTER (WHERE i.tta > t.seconds OR
                                        (t.seconds IS NULL AND i.tta IS NOT NULL)),
                       count(*) FILTER (WHERE i.tta IS NULL)
                FROM {INCIDENTS} LEFT JOIN t ON t.severity = i.severity GROUP BY 1""",
            {"start": start, "end": end, "severities": list(targets),
             "seconds": [60.0 * minutes for minutes in targets.values()]},
        )
    }
    rows = []
    for severity in SEVERITIES:
        total, within, late, never = counts.get(severity, (0, 0, 0, 0))
        if total or severity in targets:
            rows.append(SlaRow(severity, targets.get(severity), total, within, late, never))
    return rows


@dataclass(frozen=True)
class NoiseRow:
    alert_group_id: int
    alertname: str
    group_labels: dict
    fired: int
    acknowledged: int
    firing_mean: float | None  # seconds from the first firing to the first resolved message
    firing_total: float | None


def noisiest_alerts(*, start: datetime, end: datetime, limit: int = NOISE_LIMIT) -> list[NoiseRow]:
    """The alert groups that fired most often in [start, end) (incidents notified as firing)."""
    # First the top groups, from the period's firing notifications alone (an
    # index-only range scan of reports_notif_created_cover); then the per-incident
    # figures for those few groups only, not for every incident of the period.
    sql = """
    WITH top AS (
        SELECT alert_group_id, count(*) AS fired
        FROM (SELECT DISTINCT alert_group_id, COALESCE(incident, 1) AS incident
              FROM receivers_notification
              WHERE created_at >= %(start)s AND created_at < %(end)s AND status = 'firing') f
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %(limit)s
    ), n AS (
        SELECT n.alert_group_id, COALESCE(n.incident, 1) AS incident,
               min(n.created_at) FILTER (WHERE n.status = 'firing') AS fired_at,
               min(n.created_at) FILTER (WHERE n.status = 'resolved') AS resolved_at
        FROM receivers_notification n JOIN top ON top.alert_group_id = n.alert_group_id
        WHERE n.created_at >= %(start)s AND n.created_at < %(end)s
        GROUP BY 1, 2
    )
    SELECT g.id, COALESCE(g.common_labels->>'alertname', ''), g.group_labels, top.fired,
           count(*) FILTER (
               WHERE n.fired_at IS NOT NULL
                 AND (EXISTS (SELECT 1 FROM escalation_page p WHERE p.alert_group_id = g.id
                                AND p.incident = n.incident AND p.state = 'acknowledged')
                      OR (n.incident = g.incident AND g.acknowledged_at IS NOT NULL))),
           avg(date_part('epoch', n.resolved_at - n.fired_at))
               FILTER (WHERE n.resolved_at > n.fired_at),
           sum(date_part('epoch', n.resolved_at - n.fired_at))
               FILTER (WHERE n.resolved_at > n.fired_at)
    FROM top JOIN alerting_alertgroup g ON g.id = top.alert_group_id
    JOIN n ON n.alert_group_id = g.id
    GROUP BY g.id, top.fired
    ORDER BY top.fired DESC, g.id
    """
    return [
        NoiseRow(row[0], row[1], _labels(row[2]), row[3], row[4], _float(row[5]), _float(row[6]))
        for row in _fetch(sql, {"start": start, "end": end, "limit": limit})
    ]


# Counted per quarter hour of absolute time first (an integer key, no time zone
# lookup per row), then each quarter hour read on the tenant's clock: every time
# zone's offset is a whole number of quarter hours, so each falls in one hour.
_VOLUME = """
    SELECT EXTRACT(HOUR FROM to_timestamp(q.quarter * 900.0) AT TIME ZONE %(zone)s)::int,
           sum(q.count)::bigint
    FROM (SELECT floor(date_part('epoch', {column}) / 900)::bigint AS quarter, count(*)
          FROM {table} WHERE {column} >= %(start)s AND {column} < %(end)s GROUP BY 1) q
    GROUP BY 1"""


def volume_by_hour(*, start: datetime, end: datetime, zone: str) -> dict[str, list[int]]:
    """Incidents and notifications per hour of the day (0-23) on the tenant's clock."""
    params = {"start": start, "end": end, "zone": zone}
    incidents, notifications = [0] * 24, [0] * 24
    for counts, table, column in ((incidents, "alerting_alertgroup", "first_seen_at"),
                                  (notifications, "receivers_notification", "created_at")):
        for hour, count in _fetch(_VOLUME.format(table=table, column=column), params):
            counts[hour] = count
    return {"incidents": incidents, "notifications": notifications}


@dataclass(frozen=True)
class WeekRow:
    week: datetime  # Monday 00:00 on the tenant's clock (naive)
    incidents: int
    tta_mean: float | None
    ttr_mean: float | None


def weekly_response_times(*, start: datetime, end: datetime, zone: str) -> list[WeekRow]:
    """MTTA and MTTR per week (weeks start on Monday on the tenant's clock)."""
    sql = f"""
    SELECT date_trunc('week', i.first_seen_at AT TIME ZONE %(zone)s), count(*),
           avg(i.tta), avg(i.ttr)
    FROM {INCIDENTS} GROUP BY 1 ORDER BY 1
    """
    return [
        WeekRow(row[0], row[1], _float(row[2]), _float(row[3]))
        for row in _fetch(sql, {"start": start, "end": end, "zone": zone})
    ]
