"""Herald's project package and alert pipeline (ingest, alert groups)."""

from alerting.celery import app as celery_app

__all__ = ["celery_app"]
