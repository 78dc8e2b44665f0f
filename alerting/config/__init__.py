"""Configuration as code: a tenant's receivers, templates, people, teams, on-call
schedules, routes, escalation policies, business hours and silences as one YAML file.

schema      the file's shape (pydantic)
schema_oncall  people, teams, schedules and levels' targets in it
loading     YAML with line numbers, problems pointing into the file
envrefs     ${ENV_VAR} references for secrets
validation  the levels basic, standard, strict, paranoid
validation_oncall    people, teams, schedules and targets checked
validation_coverage  schedules' coverage gaps and unbalanced rotations (12 weeks)
schedule_engine      a file's schedule as the schedule engine's spec
limits      vendor limits for rendered parts (paranoid)
plan        what applying a file would change (pure)
apply       the service that applies it, with audit entries (apply_oncall: people,
            teams, schedules, targets)
export      the current configuration as a file (export_oncall: the on-call sections)
alertmanager  an alertmanager.yml turned into Herald receivers and routes
cli         what the management commands share
"""
