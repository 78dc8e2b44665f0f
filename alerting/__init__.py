"""Herald's project package: the alert pipeline (ingest, routing, alert groups, audit).

Its plumbing (settings, Celery app, embedded servers, logging, health,
metrics, WSGI) lives in `alerting.infra`; the app is loaded here so that
Django and Celery share it.
"""

from alerting.infra.celery import app as celery_app

__all__ = ["celery_app"]
