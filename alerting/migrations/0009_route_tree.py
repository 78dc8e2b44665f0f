"""Routes nest: a parent, children ordered by position, receivers inherited or not.

A route can never be nested under itself or its own subtree: the admin, the
services and the configuration file refuse it, and a trigger refuses it for
every other path (raw SQL, a race between two editors), so the tree read by
dispatch always has its top.
"""

import django.db.models.deletion
from django.db import migrations, models

_ACYCLIC = r"""
CREATE FUNCTION alerting_route_acyclic() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    loops boolean;
BEGIN
    IF NEW.parent_id IS NULL THEN
        RETURN NEW;
    END IF;
    -- UNION, not UNION ALL: the walk ends even on a cycle written before this check.
    EXECUTE format(
        'WITH RECURSIVE up(id, parent_id) AS ('
        ' SELECT id, parent_id FROM %1$I.alerting_route WHERE id = $1'
        ' UNION SELECT r.id, r.parent_id FROM %1$I.alerting_route r JOIN up ON r.id = up.parent_id'
        ') SELECT EXISTS (SELECT 1 FROM up WHERE id = $2)', TG_TABLE_SCHEMA)
        INTO loops USING NEW.parent_id, NEW.id;
    IF loops THEN
        RAISE EXCEPTION 'route % cannot be nested under itself or its own subtree', NEW.name
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$body$
"""
_FORWARD = [
    _ACYCLIC,
    "CREATE TRIGGER alerting_route_acyclic BEFORE INSERT OR UPDATE OF parent_id"
    " ON alerting_route FOR EACH ROW EXECUTE FUNCTION alerting_route_acyclic()",
]
_BACKWARD = [
    "DROP TRIGGER alerting_route_acyclic ON alerting_route",
    "DROP FUNCTION alerting_route_acyclic()",
]


class Migration(migrations.Migration):

    dependencies = [
        ('alerting', '0008_last_payload_verbatim_json'),
        ('escalation', '0001_initial'),
        ('receivers', '0006_notification_alerts_plain_json'),
    ]

    operations = [
        migrations.AddField(
            model_name='route',
            name='inherit_receivers',
            field=models.BooleanField(default=True, help_text="With no receivers of its own, a nested route notifies its parent's; off: nobody (an Alertmanager receiver without integrations)."),
        ),
        migrations.AddField(
            model_name='route',
            name='parent',
            field=models.ForeignKey(blank=True, help_text='Tried only for alerts this route matches, before it; empty: top level.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='children', to='alerting.route'),
        ),
        migrations.AlterField(
            model_name='route',
            name='continue_matching',
            field=models.BooleanField(default=False, help_text='Also try the routes after this one (of the same parent).'),
        ),
        migrations.AlterField(
            model_name='route',
            name='escalation_policy',
            field=models.ForeignKey(blank=True, help_text='Started when this route is a match (not inherited by nested routes).', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='routes', to='escalation.escalationpolicy'),
        ),
        migrations.AlterField(
            model_name='route',
            name='is_default',
            field=models.BooleanField(default=False, help_text='Takes the alerts that no top-level route matched.'),
        ),
        migrations.AlterField(
            model_name='route',
            name='position',
            field=models.PositiveIntegerField(db_index=True, default=0, help_text='Order among the routes of the same parent.'),
        ),
        migrations.AddConstraint(
            model_name='route',
            constraint=models.CheckConstraint(condition=models.Q(('parent', models.F('id')), _negated=True), name='route_not_its_own_parent'),
        ),
        migrations.RunSQL(_FORWARD, _BACKWARD),
    ]
