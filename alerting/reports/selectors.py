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

from alerting.reports.models import SlaTarget
from receivers.severity import SEVERITIES, severity_spellings

DIMENSIONS = ("severity", "route", "team", "receiver", "person")
NOISE_LIMIT = 20


def _severity_values() -> str:
    """Herald's one severity vocabulary as an SQL VALUES list (spelling, canonical name)."""
    return ", ".join(
        f"('{spelling}', '{name}')"
        for name in SEVERITIES for spelling in severity_spellings(name)
        if "'" not in spelling
    )


_PERIOD = "g.first_seen_at >= %(start)s AND g.first_seen_at < %(end)s"

# A hash join on the spellings: a CASE of 40 branches cost a second per 100,000 rows.
# A subquery on the table, not a CTE: the planner then knows that id is unique.
_INCIDENTS = f"""(
    SELECT g.id, g.incident, g.acknowledged_at, g.acknowledged_by, g.first_seen_at,
           COALESCE(sev.name, 'none') AS severity,
           date_part('epoch', g.acknowledged_at - g.first_seen_at) AS tta,
           date_part('epoch', g.resolved_at - g.first_seen_at) AS ttr
    FROM alerting_alertgroup g
    LEFT JOIN (VALUES {_severity_values()}) AS sev(spelling, name)
           ON sev.spelling = lower(btrim(g.common_labels->>'severity'))
    WHERE {_PERIOD}
) i"""
_IN_PERIOD = f"(SELECT g.id FROM alerting_alertgroup g WHERE {_PERIOD})"
# The incidents' times alone, for the dimensions that expand each incident to
# several keys: the severity label is read once per incident, not once per key.
_TIMES = f"""(
    SELECT g.id, date_part('epoch', g.acknowledged_at - g.first_seen_at) AS tta,
           date_part('epoch', g.resolved_at - g.first_seen_at) AS ttr
    FROM alerting_alertgroup g WHERE {_PERIOD}
) i"""

# The route breakdown as one bit per route: each group's routes OR-ed together
# over its notifications and escalations (no DISTINCT over a million pairs),
# then expanded to one row per route. For tenants with up to 63 routes (bits
# of a bigint); more fall back to _MEMBERS["route"] (same rows, slower).
ROUTE_BITS = 63
_ROUTE_MASKS = f"""
    WITH r AS (SELECT id, name, (row_number() OVER (ORDER BY id) - 1)::int AS bit
               FROM alerting_route),
    by_receiver AS (
        SELECT rr.receiver_id, bit_or(1::bigint << r.bit) AS mask
        FROM alerting_route_receivers rr JOIN r ON r.id = rr.route_id GROUP BY 1),
    by_policy AS (
        SELECT policy_id, bit_or(mask) AS mask FROM (
            SELECT route.escalation_policy_id AS policy_id, 1::bigint << r.bit AS mask
            FROM alerting_route route JOIN r ON r.id = route.id
            UNION ALL
            SELECT t.escalation_policy_id, 1::bigint << r.bit
            FROM alerting_route route JOIN r ON r.id = route.id
            JOIN escalation_team t ON t.id = route.team_id
        ) p WHERE policy_id IS NOT NULL GROUP BY 1),
    by_group AS (
        SELECT u.id, bit_or(u.mask) AS mask FROM (
            SELECT n.alert_group_id AS id, b.mask
            FROM receivers_notification n JOIN by_receiver b ON b.receiver_id = n.receiver_id
            WHERE n.alert_group_id IN {_IN_PERIOD}
            UNION ALL
            SELECT e.alert_group_id, b.mask
            FROM escalation_escalation e JOIN by_policy b ON b.policy_id = e.policy_id
            WHERE e.alert_group_id IN {_IN_PERIOD}
        ) u GROUP BY 1)
    SELECT i.id, r.name AS key, i.tta, i.ttr
    FROM by_group g JOIN {_TIMES} ON i.id = g.id
    JOIN r ON g.mask & (1::bigint << r.bit) <> 0"""

# Which incidents each dimension's key covers (id, key); docs/reports.md says why.
_MEMBERS = {
    "severity": None,  # a column of the incident itself
    # Every receiver that was sent something about the group.
    # Read in the order of the index reports_notif_group_receiver (group, name, id),
    # so the DISTINCTs below are a streaming pass, not a sort or hash of every row.
    "receiver": """
        SELECT DISTINCT n.alert_group_id AS id, n.receiver_name AS key
        FROM receivers_notification n""",
    # A route reached the group through one of its receivers, its policy or its team's.
    "route": """
        SELECT m.id, r.name AS key
        FROM (
            -- Deduplicated on integers (route names are unique), named afterwards.
            SELECT DISTINCT u.id, u.route_id FROM (
                SELECT n.alert_group_id AS id, rr.route_id
                FROM (SELECT DISTINCT alert_group_id, receiver_name, receiver_id
                      FROM receivers_notification) n
                JOIN alerting_route_receivers rr ON rr.receiver_id = n.receiver_id
                UNION ALL
                SELECT e.alert_group_id, r.id
                FROM escalation_escalation e
                JOIN alerting_route r ON r.escalation_policy_id = e.policy_id
                UNION ALL
                SELECT e.alert_group_id, r.id
                FROM escalation_escalation e
                JOIN escalation_team t ON t.escalation_policy_id = e.policy_id
                JOIN alerting_route r ON r.team_id = t.id
            ) u
        ) m JOIN alerting_route r ON r.id = m.route_id""",
    # A team's incidents: those its escalation policy ran for.
    "team": f"""
        SELECT DISTINCT e.alert_group_id AS id, t.name AS key
        FROM escalation_escalation e
        JOIN escalation_team t ON t.escalation_policy_id = e.policy_id
        WHERE e.alert_group_id IN {_IN_PERIOD}""",
    # Who acknowledged (read with the incident's times): the person whose page of
    # this incident was acknowledged (the first, if several), else the group's
    # acknowledged_by as recorded (a member without a page, an API token).
    "person": f"""
        SELECT g.id, COALESCE(p.person_name, NULLIF(g.acknowledged_by, '')) AS key,
               date_part('epoch', g.acknowledged_at - g.first_seen_at) AS tta,
               date_part('epoch', g.resolved_at - g.first_seen_at) AS ttr
        FROM alerting_alertgroup g
        LEFT JOIN (
            -- One incident per group here: ordered as reports_page_acknowledged is.
            SELECT DISTINCT ON (p.alert_group_id) p.alert_group_id, p.person_name
            FROM escalation_page p JOIN alerting_alertgroup g
              ON g.id = p.alert_group_id AND p.incident = g.incident
            WHERE p.state = 'acknowledged' AND {_PERIOD}
            ORDER BY p.alert_group_id, p.incident, p.stopped_at, p.id
        ) p ON p.alert_group_id = g.id
        WHERE {_PERIOD} AND g.acknowledged_at IS NOT NULL""",
}


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


def response_times(*, dimension: str, start: datetime, end: datetime) -> list[TimeRow]:
    """MTTA and MTTR (mean, p50, p95) per key of one dimension, incidents of [start, end)."""
    if dimension not in _MEMBERS:
        raise ValueError(f"unknown dimension {dimension!r}")
    members = _MEMBERS[dimension]
    if dimension == "severity":
        source = f"{_INCIDENTS} CROSS JOIN LATERAL (SELECT i.severity AS key) m"
    elif dimension == "person":  # one key per incident, read with its times
        source = f"({members}) i CROSS JOIN LATERAL (SELECT i.key) m"
    elif dimension == "route" and _route_count() <= ROUTE_BITS:  # times joined per group
        source = f"({_ROUTE_MASKS}) i CROSS JOIN LATERAL (SELECT i.key) m"
    else:
        source = f"({members}) m JOIN {_TIMES} ON i.id = m.id"
    # Hashed per key (an incident reached by every receiver is a row per receiver:
    # sorting all those rows by key was most of the time), each key's times kept
    # in an array, the only work per row; then each array read once for its
    # count, mean and both percentiles (one sort).
    sql = f"""
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
    return [
        TimeRow(key, incidents, acknowledged, _float(tta_mean), *_pair(tta),
                resolved, _float(ttr_mean), *_pair(ttr))
        for key, incidents, acknowledged, tta_mean, tta, resolved, ttr_mean, ttr
        in _fetch(sql, {"start": start, "end": end},
                  settings=_BULK if dimension in ("route", "receiver", "team") else "")
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
                FROM {_INCIDENTS} LEFT JOIN t ON t.severity = i.severity GROUP BY 1""",
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
    FROM {_INCIDENTS} GROUP BY 1 ORDER BY 1
    """
    return [
        WeekRow(row[0], row[1], _float(row[2]), _float(row[3]))
        for row in _fetch(sql, {"start": start, "end": end, "zone": zone})
    ]
