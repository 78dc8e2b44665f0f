"""Gunicorn settings module (`gunicorn -c python:alerting.infra.gunicorn_conf`).

With prometheus_client's multiprocess mode, a worker that exits leaves its
metric files behind: counters must stay (they are totals), but its live
gauges must go, or /metrics would report a dead process's values forever.
"""

from __future__ import annotations

import os


def on_starting(server) -> None:
    """Production mode's required settings (tenants/checks.py), before any worker."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alerting.infra.settings")
    django.setup()
    from tenants.checks import production_problems_text

    if problems := production_problems_text():
        raise SystemExit(f"Herald cannot start in production mode:\n{problems}")


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
