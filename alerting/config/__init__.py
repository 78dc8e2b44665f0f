"""Configuration as code: a tenant's receivers, templates, routes, escalation
policies, business hours and silences as one YAML file.

schema      the file's shape (pydantic)
loading     YAML with line numbers, problems pointing into the file
envrefs     ${ENV_VAR} references for secrets
validation  the levels basic, standard, strict, paranoid
limits      vendor limits for rendered parts (paranoid)
plan        what applying a file would change (pure)
apply       the service that applies it, with audit entries
export      the current configuration as a file
alertmanager  an alertmanager.yml turned into Herald receivers and routes
cli         what the management commands share
"""
