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
           EXTRACT(EPOCH FROM g.acknowledged_at - g.first_seen_at) AS tta,
           EXTRACT(EPOCH FROM g.resolved_at - g.first_seen_at) AS ttr
    FROM alerting_alertgroup g
    LEFT JOIN (VALUES {_severity_values()}) AS sev(spelling, name)
           ON sev.spelling = lower(btrim(g.common_labels->>'severity'))
    WHERE {_PERIOD}
) i"""
_IN_PERIOD = f"(SELECT g.id FROM alerting_alertgroup g WHERE {_PERIOD})"

# Which incidents each dimension's key covers (id, key); docs/reports.md says why.
_MEMBERS = {
    "severity": None,  # a column of the incident itself
    # Every receiver that was sent something about the group.
    "receiver": f"""
        SELECT DISTINCT n.alert_group_id AS id, n.receiver_name AS key
        FROM receivers_notification n WHERE n.alert_group_id IN {_IN_PERIOD}""",
    # A route reached the group through one of its receivers, its policy or its team's.
    "route": f"""
        SELECT n.alert_group_id AS id, r.name AS key
        FROM (SELECT DISTINCT alert_group_id, receiver_id FROM receivers_notification
              WHERE alert_group_id IN {_IN_PERIOD}) n
        JOIN alerting_route_receivers rr ON rr.receiver_id = n.receiver_id
        JOIN alerting_route r ON r.id = rr.route_id
        UNION
        SELECT e.alert_group_id, r.name
        FROM escalation_escalation e
        JOIN alerting_route r ON r.escalation_policy_id = e.policy_id
        WHERE e.alert_group_id IN {_IN_PERIOD}
        UNION
        SELECT e.alert_group_id, r.name
        FROM escalation_escalation e
        JOIN escalation_team t ON t.escalation_policy_id = e.policy_id
        JOIN alerting_route r ON r.team_id = t.id
        WHERE e.alert_group_id IN {_IN_PERIOD}""",
    # A team's incidents: those its escalation policy ran for.
    "team": f"""
        SELECT DISTINCT e.alert_group_id AS id, t.name AS key
        FROM escalation_escalation e
        JOIN escalation_team t ON t.escalation_policy_id = e.policy_id
        WHERE e.alert_group_id IN {_IN_PERIOD}""",
    # Who acknowledged: the person whose page of this incident was acknowledged
    # (the first, if several), else the group's acknowledged_by as recorded (a
    # member without a page, an API token).
    "person": f"""
        SELECT i.id, COALESCE(p.person_name, NULLIF(i.acknowledged_by, '')) AS key
        FROM {_INCIDENTS}
        LEFT JOIN (
            SELECT DISTINCT ON (p.alert_group_id) p.alert_group_id, p.person_name
            FROM escalation_page p JOIN alerting_alertgroup g
              ON g.id = p.alert_group_id AND p.incident = g.incident
            WHERE p.state = 'acknowledged' AND {_PERIOD}
            ORDER BY p.alert_group_id, p.stopped_at, p.id
        ) p ON p.alert_group_id = i.id
        WHERE i.acknowledged_at IS NOT NULL""",
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


def _fetch(sql: str, params: dict) -> list[tuple]:
    # JIT compiling these aggregates costs seconds and saves milliseconds, and the
    # percentiles' sorts of 100,000 rows spill to disk under the default work_mem.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '128MB'")
        cursor.execute(sql, params)
        return cursor.fetchall()


def _labels(value) -> dict:
    # Django's psycopg setup hands jsonb over as text to a raw cursor.
    labels = json.loads(value) if isinstance(value, str) else value
    return labels if isinstance(labels, dict) else {}


def _float(value) -> float | None:
    return None if value is None else float(value)


def response_times(*, dimension: str, start: datetime, end: datetime) -> list[TimeRow]:
    """MTTA and MTTR (mean, p50, p95) per key of one dimension, incidents of [start, end)."""
    if dimension not in _MEMBERS:
        raise ValueError(f"unknown dimension {dimension!r}")
    members = _MEMBERS[dimension]
    source = (
        f"{_INCIDENTS} CROSS JOIN LATERAL (SELECT i.severity AS key) m" if members is None
        else f"({members}) m JOIN {_INCIDENTS} ON i.id = m.id"
    )
    sql = f"""
    SELECT COALESCE(m.key, ''), count(*), count(i.tta), avg(i.tta),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY i.tta),
           percentile_cont(0.95) WITHIN GROUP (ORDER BY i.tta),
           count(i.ttr), avg(i.ttr),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY i.ttr),
           percentile_cont(0.95) WITHIN GROUP (ORDER BY i.ttr)
    FROM {source}
    GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 200
    """
    return [
        TimeRow(row[0], row[1], row[2], *map(_float, row[3:6]), row[6], *map(_float, row[7:10]))
        for row in _fetch(sql, {"start": start, "end": end})
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
    sql = """
    WITH n AS (
        SELECT alert_group_id, COALESCE(incident, 1) AS incident,
               min(created_at) FILTER (WHERE status = 'firing') AS fired_at,
               min(created_at) FILTER (WHERE status = 'resolved') AS resolved_at
        FROM receivers_notification
        WHERE created_at >= %(start)s AND created_at < %(end)s
        GROUP BY 1, 2
    ), top AS (
        SELECT alert_group_id, count(*) AS fired FROM n WHERE fired_at IS NOT NULL
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %(limit)s
    )
    SELECT g.id, COALESCE(g.common_labels->>'alertname', ''), g.group_labels, top.fired,
           (SELECT count(*) FROM n WHERE n.alert_group_id = g.id AND n.fired_at IS NOT NULL
              AND (EXISTS (SELECT 1 FROM escalation_page p WHERE p.alert_group_id = g.id
                             AND p.incident = n.incident AND p.state = 'acknowledged')
                   OR (n.incident = g.incident AND g.acknowledged_at IS NOT NULL))),
           (SELECT avg(EXTRACT(EPOCH FROM n.resolved_at - n.fired_at)) FROM n
             WHERE n.alert_group_id = g.id AND n.resolved_at > n.fired_at),
           (SELECT sum(EXTRACT(EPOCH FROM n.resolved_at - n.fired_at)) FROM n
             WHERE n.alert_group_id = g.id AND n.resolved_at > n.fired_at)
    FROM top JOIN alerting_alertgroup g ON g.id = top.alert_group_id
    ORDER BY top.fired DESC, g.id
    """
    return [
        NoiseRow(row[0], row[1], _labels(row[2]), row[3], row[4], _float(row[5]), _float(row[6]))
        for row in _fetch(sql, {"start": start, "end": end, "limit": limit})
    ]


def volume_by_hour(*, start: datetime, end: datetime, zone: str) -> dict[str, list[int]]:
    """Incidents and notifications per hour of the day (0-23) on the tenant's clock."""
    params = {"start": start, "end": end, "zone": zone}
    incidents, notifications = [0] * 24, [0] * 24
    for hour, count in _fetch(
        """SELECT EXTRACT(HOUR FROM first_seen_at AT TIME ZONE %(zone)s)::int, count(*)
           FROM alerting_alertgroup WHERE first_seen_at >= %(start)s AND first_seen_at < %(end)s
           GROUP BY 1""", params,
    ):
        incidents[hour] = count
    for hour, count in _fetch(
        """SELECT EXTRACT(HOUR FROM created_at AT TIME ZONE %(zone)s)::int, count(*)
           FROM receivers_notification WHERE created_at >= %(start)s AND created_at < %(end)s
           GROUP BY 1""", params,
    ):
        notifications[hour] = count
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
