# ruff: noqa: S608 - the SQL is built from this module's constants only; every value is a parameter
"""Which incidents each dimension's key covers, as docs/reports.md defines it, read
from the tables themselves.

The receiver and route breakdowns read rollups that PostgreSQL keeps
(alerting/reports/migrations/0003_response_time_rollups.py); these queries
are their definition, and the reference the tests hold the rollups to
(`response_times(..., from_tables=True)`).
"""

from __future__ import annotations

from receivers.severity import SEVERITIES, severity_spellings


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
INCIDENTS = f"""(
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
TIMES = f"""(
    SELECT g.id, date_part('epoch', g.acknowledged_at - g.first_seen_at) AS tta,
           date_part('epoch', g.resolved_at - g.first_seen_at) AS ttr
    FROM alerting_alertgroup g WHERE {_PERIOD}
) i"""

# The route breakdown as one bit per route: each group's routes OR-ed together
# over its notifications and escalations (no DISTINCT over a million pairs),
# then expanded to one row per route. For tenants with up to 63 routes (bits
# of a bigint); more fall back to MEMBERS["route"] (same rows,
# slower): selectors.ROUTE_BITS.
ROUTE_MASKS = f"""
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
    FROM by_group g JOIN {TIMES} ON i.id = g.id
    JOIN r ON g.mask & (1::bigint << r.bit) <> 0"""

# Which incidents each dimension's key covers (id, key); docs/reports.md says why.
MEMBERS = {
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
