"""Rollups of the receiver and route breakdowns, kept by PostgreSQL (docs/reports.md, Performance).

One row per (incident, receiver name) and per (incident, route) with the
incident's first_seen_at, TTA and TTR, each key's rows indexed by (key,
first_seen_at) INCLUDE (tta, ttr): a key's incidents of a period are one
index-only range scan, no join and no hash. Membership is exactly the
Dimensions table's (the definition queries, alerting/reports/members.py):

- notification inserted: its (group, receiver name) and the (group, route)
  pairs of its receiver's routes, when missing (two index probes otherwise);
- escalation inserted: the (group, route) pairs of the routes whose policy,
  or whose team's policy, it ran;
- alert group's first_seen_at / acknowledged_at / resolved_at changed (an
  acknowledgement, a resolution, a new incident on the same row): its rows'
  times; a group inserted (a restore may load it after its notifications):
  its rows rebuilt; deleted: its rows dropped;
- a notification's or escalation's group, receiver or policy changed, or the
  row deleted: the group's rows rebuilt (a receiver's or policy's deletion
  sets them NULL: nothing to rebuild when no route names it any more);
- a route's receivers, policy or team changed, a team's policy changed, a
  route or team inserted: those routes' rows rebuilt (config writes, rare:
  one statement per route); a route deleted: its rows dropped. A route
  renamed changes nothing: the rows hold its id, the report joins the name.

Concurrency: every trigger that writes rows takes a shared per-schema
advisory lock for its transaction, a route rebuild and the backfill take it
exclusively, so a rebuild never misses a notification committed meanwhile;
a new row's times are read with the group row locked FOR SHARE, so an
acknowledgement committing meanwhile cannot leave old times in it.

The functions name tables unqualified: they run in the schema of the table
written (entered for the call when the search_path says otherwise, as a
restore's qualified INSERTs do), and a cloned schema's copies do the same.

Expand only: two new tables, functions and triggers; the old code's writes
keep the rollups current from the moment the triggers exist, and the backfill
then fills the history in batches of groups, committing each (outside a
transaction, as `migrate` runs it on a live database).
"""

from django.db import migrations

LOCK_CLASS = 1380995668  # any constant of ours ('RPRT'); the second key is the schema

# Entered at the top of each trigger function: the functions it calls and the
# tables it names are the written table's schema's.
_ENTER = """
    IF TG_TABLE_SCHEMA IS DISTINCT FROM current_schema() THEN
        previous_path := current_setting('search_path');
        PERFORM set_config('search_path', quote_ident(TG_TABLE_SCHEMA), true);
    END IF;"""
_LEAVE = """
    IF previous_path IS NOT NULL THEN
        PERFORM set_config('search_path', previous_path, true);
    END IF;"""
_SHARED = f"""
    PERFORM pg_advisory_xact_lock_shared({LOCK_CLASS}, hashtext(TG_TABLE_SCHEMA));"""
_TIMES = """g.first_seen_at, date_part('epoch', g.acknowledged_at - g.first_seen_at),
           date_part('epoch', g.resolved_at - g.first_seen_at)"""


def _trigger_function(name: str, body: str, *, declare: str = "") -> str:
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE previous_path text; {declare}
BEGIN{_ENTER}
{body}{_LEAVE}
    RETURN NULL;
END
$body$"""


_TABLES = [
    """CREATE TABLE reports_receiver_incident (
        alert_group_id bigint NOT NULL, receiver_name varchar(100) NOT NULL,
        first_seen_at timestamptz NOT NULL, tta float8, ttr float8,
        PRIMARY KEY (alert_group_id, receiver_name))""",
    "CREATE INDEX reports_receiver_incident_key ON reports_receiver_incident "
    "(receiver_name, first_seen_at) INCLUDE (tta, ttr)",
    """CREATE TABLE reports_route_incident (
        alert_group_id bigint NOT NULL, route_id bigint NOT NULL,
        first_seen_at timestamptz NOT NULL, tta float8, ttr float8,
        PRIMARY KEY (alert_group_id, route_id))""",
    "CREATE INDEX reports_route_incident_key ON reports_route_incident "
    "(route_id, first_seen_at) INCLUDE (tta, ttr)",
]

_HELPERS = [
    f"""
CREATE FUNCTION reports_rollup_lock(exclusive boolean) RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
    IF exclusive THEN
        PERFORM pg_advisory_xact_lock({LOCK_CLASS}, hashtext(current_schema()));
    ELSE
        PERFORM pg_advisory_xact_lock_shared({LOCK_CLASS}, hashtext(current_schema()));
    END IF;
END
$body$""",
    # The routes that reached a group: docs/reports.md, Dimensions, "route".
    # PL/pgSQL, not SQL: a schema clone creates the functions before the tables,
    # and an SQL function's body is checked against them when it is created.
    """
CREATE FUNCTION reports_group_routes(group_id bigint) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE AS $body$
BEGIN
    RETURN QUERY
    SELECT rr.route_id FROM receivers_notification n
    JOIN alerting_route_receivers rr ON rr.receiver_id = n.receiver_id
    WHERE n.alert_group_id = group_id
    UNION
    SELECT r.id FROM escalation_escalation e
    JOIN alerting_route r ON r.escalation_policy_id = e.policy_id
    WHERE e.alert_group_id = group_id
    UNION
    SELECT r.id FROM escalation_escalation e
    JOIN escalation_team t ON t.escalation_policy_id = e.policy_id
    JOIN alerting_route r ON r.team_id = t.id
    WHERE e.alert_group_id = group_id;
END
$body$""",
    # One group's rows from the tables (the caller holds the shared lock).
    f"""
CREATE FUNCTION reports_group_refresh(group_id bigint) RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
    DELETE FROM reports_receiver_incident WHERE alert_group_id = group_id;
    DELETE FROM reports_route_incident WHERE alert_group_id = group_id;
    PERFORM 1 FROM alerting_alertgroup WHERE id = group_id FOR SHARE;
    INSERT INTO reports_receiver_incident
    SELECT g.id, n.receiver_name, {_TIMES}
    FROM alerting_alertgroup g
    JOIN (SELECT DISTINCT receiver_name FROM receivers_notification
          WHERE alert_group_id = group_id) n ON true
    WHERE g.id = group_id;
    INSERT INTO reports_route_incident
    SELECT g.id, m.route_id, {_TIMES}
    FROM alerting_alertgroup g CROSS JOIN reports_group_routes(group_id) AS m(route_id)
    WHERE g.id = group_id;
END
$body$""",
    # One route's rows from the tables, under the exclusive lock. Its policies
    # first, so the rows are one uncorrelated join (the planner ran a correlated
    # IN once per group); no JIT for a statement over the whole history.
    f"""
CREATE FUNCTION reports_route_refresh(rid bigint) RETURNS void LANGUAGE plpgsql
SET jit = off AS $body$
DECLARE policies bigint[];
BEGIN
    PERFORM reports_rollup_lock(true);
    DELETE FROM reports_route_incident WHERE route_id = rid;
    SELECT array_remove(ARRAY[r.escalation_policy_id, t.escalation_policy_id], NULL)
    INTO policies
    FROM alerting_route r LEFT JOIN escalation_team t ON t.id = r.team_id WHERE r.id = rid;
    IF NOT FOUND THEN
        RETURN;  -- deleted meanwhile
    END IF;
    INSERT INTO reports_route_incident
    SELECT g.id, rid, {_TIMES}
    FROM alerting_alertgroup g JOIN (
        SELECT n.alert_group_id FROM receivers_notification n
        JOIN alerting_route_receivers rr ON rr.receiver_id = n.receiver_id
        WHERE rr.route_id = rid
        UNION
        SELECT e.alert_group_id FROM escalation_escalation e WHERE e.policy_id = ANY (policies)
    ) m ON m.alert_group_id = g.id;
END
$body$""",
]

_FUNCTIONS = [
    # A source table emptied (an operator's TRUNCATE, the tests' reset): its
    # rows cannot be followed one by one, so the rollups are rebuilt whole.
    _trigger_function("reports_source_truncated", """
    PERFORM reports_rollup_lock(true);
    TRUNCATE reports_receiver_incident, reports_route_incident;
    PERFORM reports_group_refresh(g.id) FROM alerting_alertgroup g;"""),
    # Nothing but two index probes when both pairs are there already (a
    # repeated notification); else one statement. Row level: ingest inserts a
    # group's few notifications a statement, and a statement-level trigger's
    # transition table cost three times as much a statement.
    _trigger_function("reports_notification_added", f"""{_SHARED}
    IF NOT EXISTS (SELECT 1 FROM reports_receiver_incident
                   WHERE alert_group_id = NEW.alert_group_id AND receiver_name = NEW.receiver_name)
       OR EXISTS (SELECT 1 FROM alerting_route_receivers rr
                  WHERE rr.receiver_id = NEW.receiver_id AND NOT EXISTS (
                      SELECT 1 FROM reports_route_incident x
                      WHERE x.alert_group_id = NEW.alert_group_id AND x.route_id = rr.route_id))
    THEN
        WITH g (id, first_seen_at, tta, ttr) AS MATERIALIZED (
            SELECT g.id, {_TIMES} FROM alerting_alertgroup g
            WHERE g.id = NEW.alert_group_id FOR SHARE),
        receiver AS (
            INSERT INTO reports_receiver_incident
            SELECT g.id, NEW.receiver_name, g.first_seen_at, g.tta, g.ttr FROM g
            ON CONFLICT DO NOTHING)
        INSERT INTO reports_route_incident
        SELECT g.id, rr.route_id, g.first_seen_at, g.tta, g.ttr
        FROM g JOIN alerting_route_receivers rr ON rr.receiver_id = NEW.receiver_id
        ON CONFLICT DO NOTHING;
    END IF;"""),
    _trigger_function("reports_escalation_added", f"""{_SHARED}
    PERFORM 1 FROM alerting_alertgroup WHERE id = NEW.alert_group_id FOR SHARE;
    INSERT INTO reports_route_incident
    SELECT g.id, r.id, {_TIMES}
    FROM alerting_alertgroup g JOIN alerting_route r ON r.escalation_policy_id = NEW.policy_id
       OR r.team_id IN (SELECT t.id FROM escalation_team t
                        WHERE t.escalation_policy_id = NEW.policy_id)
    WHERE g.id = NEW.alert_group_id
    ON CONFLICT DO NOTHING;"""),
    # A changed or deleted notification / escalation: its group(s) rebuilt.
    # TG_ARGV[0] names the source column; a source set NULL that no route names
    # (its receiver or policy being deleted) changes no membership of a route.
    _trigger_function("reports_source_changed", """
    IF TG_OP = 'UPDATE' AND NEW.alert_group_id = OLD.alert_group_id THEN
        IF TG_ARGV[0] = 'receiver_id' THEN
            unchanged := NEW.receiver_id IS NULL AND NEW.receiver_name = OLD.receiver_name
                AND NOT EXISTS (SELECT 1 FROM alerting_route_receivers
                                WHERE receiver_id = OLD.receiver_id);
        ELSE
            unchanged := NEW.policy_id IS NULL AND NOT EXISTS (
                SELECT 1 FROM alerting_route r LEFT JOIN escalation_team t ON t.id = r.team_id
                WHERE OLD.policy_id IN (r.escalation_policy_id, t.escalation_policy_id));
        END IF;
    END IF;
    IF NOT unchanged THEN
        PERFORM reports_rollup_lock(false);
        PERFORM reports_group_refresh(OLD.alert_group_id);
        IF TG_OP = 'UPDATE' AND NEW.alert_group_id <> OLD.alert_group_id THEN
            PERFORM reports_group_refresh(NEW.alert_group_id);
        END IF;
    END IF;""", declare="unchanged boolean := false;"),
    _trigger_function("reports_group_times_changed", f"""{_SHARED}
    UPDATE reports_receiver_incident SET first_seen_at = NEW.first_seen_at,
        tta = date_part('epoch', NEW.acknowledged_at - NEW.first_seen_at),
        ttr = date_part('epoch', NEW.resolved_at - NEW.first_seen_at)
    WHERE alert_group_id = NEW.id;
    UPDATE reports_route_incident SET first_seen_at = NEW.first_seen_at,
        tta = date_part('epoch', NEW.acknowledged_at - NEW.first_seen_at),
        ttr = date_part('epoch', NEW.resolved_at - NEW.first_seen_at)
    WHERE alert_group_id = NEW.id;"""),
    _trigger_function("reports_group_added_or_deleted", f"""
    IF TG_OP = 'INSERT' THEN
        -- A new group has no notification yet (no other transaction can see it to
        -- write one), but a restore may load its notifications first.
        IF EXISTS (SELECT 1 FROM receivers_notification WHERE alert_group_id = NEW.id)
           OR EXISTS (SELECT 1 FROM escalation_escalation WHERE alert_group_id = NEW.id) THEN{_SHARED}
            PERFORM reports_group_refresh(NEW.id);
        END IF;
    ELSE{_SHARED}
        DELETE FROM reports_receiver_incident WHERE alert_group_id = OLD.id;
        DELETE FROM reports_route_incident WHERE alert_group_id = OLD.id;
    END IF;"""),
    # Statement level: each route of the statement's rows rebuilt once.
    _trigger_function("reports_route_receivers_changed", """
    IF TG_OP = 'INSERT' THEN
        PERFORM reports_route_refresh(route_id)
        FROM (SELECT DISTINCT route_id FROM new_rows ORDER BY 1) r;
    ELSE
        PERFORM reports_route_refresh(route_id)
        FROM (SELECT DISTINCT route_id FROM old_rows ORDER BY 1) r;
    END IF;"""),
    _trigger_function("reports_route_changed", """
    IF TG_OP = 'DELETE' THEN
        PERFORM reports_rollup_lock(true);
        DELETE FROM reports_route_incident WHERE route_id = OLD.id;
    ELSE
        PERFORM reports_route_refresh(NEW.id);
    END IF;"""),
    _trigger_function("reports_team_changed", """
    PERFORM reports_route_refresh(r.id) FROM alerting_route r
    WHERE r.team_id = NEW.id ORDER BY r.id;"""),
]

_TRIGGERS = {
    **{f"reports_{table}_truncated": (
        f"AFTER TRUNCATE ON {table} FOR EACH STATEMENT "
        "EXECUTE FUNCTION reports_source_truncated()")
       for table in ("alerting_alertgroup", "receivers_notification", "escalation_escalation")},
    "reports_notification_added": (
        "AFTER INSERT ON receivers_notification FOR EACH ROW "
        "EXECUTE FUNCTION reports_notification_added()"),
    "reports_notification_changed": (
        "AFTER UPDATE OF alert_group_id, receiver_id, receiver_name ON receivers_notification "
        "FOR EACH ROW WHEN (OLD.alert_group_id IS DISTINCT FROM NEW.alert_group_id "
        "OR OLD.receiver_id IS DISTINCT FROM NEW.receiver_id "
        "OR OLD.receiver_name IS DISTINCT FROM NEW.receiver_name) "
        "EXECUTE FUNCTION reports_source_changed('receiver_id')"),
    "reports_notification_deleted": (
        "AFTER DELETE ON receivers_notification FOR EACH ROW "
        "EXECUTE FUNCTION reports_source_changed('receiver_id')"),
    "reports_escalation_added": (
        "AFTER INSERT ON escalation_escalation FOR EACH ROW "
        "EXECUTE FUNCTION reports_escalation_added()"),
    "reports_escalation_changed": (
        "AFTER UPDATE OF alert_group_id, policy_id ON escalation_escalation FOR EACH ROW "
        "WHEN (OLD.alert_group_id IS DISTINCT FROM NEW.alert_group_id "
        "OR OLD.policy_id IS DISTINCT FROM NEW.policy_id) "
        "EXECUTE FUNCTION reports_source_changed('policy_id')"),
    "reports_escalation_deleted": (
        "AFTER DELETE ON escalation_escalation FOR EACH ROW "
        "EXECUTE FUNCTION reports_source_changed('policy_id')"),
    "reports_group_times_changed": (
        "AFTER UPDATE OF first_seen_at, acknowledged_at, resolved_at ON alerting_alertgroup "
        "FOR EACH ROW WHEN (OLD.first_seen_at IS DISTINCT FROM NEW.first_seen_at "
        "OR OLD.acknowledged_at IS DISTINCT FROM NEW.acknowledged_at "
        "OR OLD.resolved_at IS DISTINCT FROM NEW.resolved_at) "
        "EXECUTE FUNCTION reports_group_times_changed()"),
    "reports_group_added_or_deleted": (
        "AFTER INSERT OR DELETE ON alerting_alertgroup FOR EACH ROW "
        "EXECUTE FUNCTION reports_group_added_or_deleted()"),
    "reports_route_receivers_added": (
        "AFTER INSERT ON alerting_route_receivers REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION reports_route_receivers_changed()"),
    "reports_route_receivers_deleted": (
        "AFTER DELETE ON alerting_route_receivers REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION reports_route_receivers_changed()"),
    "reports_route_added_or_deleted": (
        "AFTER INSERT OR DELETE ON alerting_route FOR EACH ROW "
        "EXECUTE FUNCTION reports_route_changed()"),
    "reports_route_changed": (
        "AFTER UPDATE OF escalation_policy_id, team_id ON alerting_route FOR EACH ROW "
        "WHEN (OLD.escalation_policy_id IS DISTINCT FROM NEW.escalation_policy_id "
        "OR OLD.team_id IS DISTINCT FROM NEW.team_id) EXECUTE FUNCTION reports_route_changed()"),
    "reports_team_added": (
        "AFTER INSERT ON escalation_team FOR EACH ROW EXECUTE FUNCTION reports_team_changed()"),
    "reports_team_changed": (
        "AFTER UPDATE OF escalation_policy_id ON escalation_team FOR EACH ROW "
        "WHEN (OLD.escalation_policy_id IS DISTINCT FROM NEW.escalation_policy_id) "
        "EXECUTE FUNCTION reports_team_changed()"),
}
_TRIGGER_TABLES = {name: spec.split(" ON ")[1].split()[0] for name, spec in _TRIGGERS.items()}

BATCH = 1000  # groups per backfill transaction: the exclusive lock is held for one batch

_BACKFILL = (f"""
INSERT INTO reports_receiver_incident
SELECT g.id, n.receiver_name, {_TIMES}
FROM alerting_alertgroup g
JOIN (SELECT DISTINCT alert_group_id, receiver_name FROM receivers_notification
      WHERE alert_group_id >= %(low)s AND alert_group_id < %(high)s) n ON n.alert_group_id = g.id
ON CONFLICT DO NOTHING""", f"""
INSERT INTO reports_route_incident
SELECT g.id, m.route_id, {_TIMES}
FROM alerting_alertgroup g JOIN (
    SELECT n.alert_group_id, rr.route_id FROM receivers_notification n
    JOIN alerting_route_receivers rr ON rr.receiver_id = n.receiver_id
    WHERE n.alert_group_id >= %(low)s AND n.alert_group_id < %(high)s
    UNION
    SELECT e.alert_group_id, r.id FROM escalation_escalation e
    JOIN alerting_route r ON r.escalation_policy_id = e.policy_id
    WHERE e.alert_group_id >= %(low)s AND e.alert_group_id < %(high)s
    UNION
    SELECT e.alert_group_id, r.id FROM escalation_escalation e
    JOIN escalation_team t ON t.escalation_policy_id = e.policy_id
    JOIN alerting_route r ON r.team_id = t.id
    WHERE e.alert_group_id >= %(low)s AND e.alert_group_id < %(high)s
) m ON m.alert_group_id = g.id
ON CONFLICT DO NOTHING""")


def install(apps, schema_editor) -> None:
    from django.db import transaction

    with transaction.atomic(using=schema_editor.connection.alias):
        for statement in _TABLES + _HELPERS + _FUNCTIONS:
            schema_editor.execute(statement)
        for name, spec in _TRIGGERS.items():
            schema_editor.execute(f"CREATE TRIGGER {name} {spec}")
    backfill(schema_editor.connection)


def backfill(connection) -> None:
    """The rows of the groups that exist already, a batch of groups per transaction."""
    from django.db import transaction

    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM alerting_alertgroup")
        low, top = cursor.fetchone()
    if low is None:
        return
    while low <= top:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("SELECT reports_rollup_lock(true)")
            for statement in _BACKFILL:
                cursor.execute(statement, {"low": low, "high": low + BATCH})
        low += BATCH


def uninstall(apps, schema_editor) -> None:
    for name, table in _TRIGGER_TABLES.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for function in ("reports_source_truncated", "reports_notification_added",
                     "reports_escalation_added",
                     "reports_source_changed", "reports_group_times_changed",
                     "reports_group_added_or_deleted", "reports_route_receivers_changed",
                     "reports_route_changed", "reports_team_changed"):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")
    schema_editor.execute("DROP FUNCTION IF EXISTS reports_route_refresh(bigint)")
    schema_editor.execute("DROP FUNCTION IF EXISTS reports_group_refresh(bigint)")
    schema_editor.execute("DROP FUNCTION IF EXISTS reports_group_routes(bigint)")
    schema_editor.execute("DROP FUNCTION IF EXISTS reports_rollup_lock(boolean)")
    schema_editor.execute("DROP TABLE IF EXISTS reports_receiver_incident")
    schema_editor.execute("DROP TABLE IF EXISTS reports_route_incident")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("reports", "0002_report_indexes")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
