"""Liveness and readiness over HTTP, with the real database, broker and worker."""

from __future__ import annotations

import pytest

from alerting.infra.health import liveness
from receivers.models import NotificationState
from tests.conftest import broker
from tests.factories import NotificationFactory
from tests.ingest import keep_schema, public_client


def get(path: str):
    with keep_schema():
        return public_client().get(path)


def test_liveness_is_cheap_and_says_ok(db, django_assert_num_queries):
    with django_assert_num_queries(0):  # nothing beyond what every request pays
        liveness()
    response = get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["uptime_seconds"] >= 0


def test_ready_when_database_broker_and_a_worker_answer(alpha, celery_worker_thread):
    NotificationFactory()
    NotificationFactory(state=NotificationState.DELIVERED)

    response = get("/api/v1/health/ready")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    checks = body["checks"]
    assert {name for name, check in checks.items() if check["ok"]} == {
        "database", "broker", "worker", "backlog",
    }
    assert checks["worker"]["counts"]["answered"] >= 1
    assert checks["backlog"]["counts"] == {"tenants": 2, "pending": 1, "overdue": 0}


def test_not_ready_with_the_broker_down(db, celery_worker_thread):
    broker.stop()
    try:
        response = get("/api/v1/health/ready")
    finally:
        broker.start()

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_an_overdue_backlog_over_the_limit_is_not_ready(alpha, settings, celery_worker_thread):
    from datetime import timedelta

    from django.utils import timezone

    settings.HERALD_HEALTH_MAX_OVERDUE = 1
    long_ago = timezone.now() - timedelta(hours=1)
    NotificationFactory.create_batch(2, next_attempt_at=long_ago)

    response = get("/api/v1/health/ready")

    assert response.status_code == 503
    backlog = response.json()["checks"]["backlog"]
    assert backlog["ok"] is False
    assert backlog["counts"]["overdue"] == 2
    assert "2 notifications overdue" in backlog["detail"]


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/health/ready"])
def test_health_answers_only_get(db, path):
    with keep_schema():
        assert public_client().post(path).status_code == 405
