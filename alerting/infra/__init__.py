"""Herald's plumbing: settings, the Celery app, embedded servers, logging,
health, metrics, WSGI/gunicorn and database/Redis helpers.

Nothing here is alert pipeline logic; the rest of `alerting` is the pipeline.
"""
