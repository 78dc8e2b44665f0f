"""Structured logs: JSON lines with tenant, request id and notification id; never secrets."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import connection
from pythonjsonlogger.json import JsonFormatter

from alerting.infra.log_context import LogContextFilter, request_id_var
from alerting.infra.log_redaction import RedactSecretsFilter
from receivers.delivery import notifications_deliver
from receivers.tasks import deliver_notification
from tests.factories import NotificationFactory, ReceiverFactory
from tests.ingest import keep_schema, public_client


@pytest.fixture
def json_log():
    """A logger writing through Herald's JSON formatter and filters into a buffer."""
    options = {k: v for k, v in settings.LOGGING["formatters"]["json"].items() if k != "()"}
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(**options))
    handler.addFilter(RedactSecretsFilter())
    handler.addFilter(LogContextFilter())
    logger = logging.getLogger("herald.test")
    logger.addHandler(handler)
    logger.propagate = False
    # Its own level: a test worker started earlier may have set the root's.
    logger.setLevel(logging.INFO)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield logger, lines
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


def test_a_line_names_tenant_and_request_and_hides_keys(alpha, json_log):
    logger, lines = json_log
    token = request_id_var.set("req-123")
    try:
        logger.warning("refused /api/v1/alertmanager/%s/", "hk_abcdefghijklmnop")
    finally:
        request_id_var.reset(token)

    (line,) = lines()
    assert line["level"] == "WARNING" and line["logger"] == "herald.test"
    assert line["tenant"] == "alpha" and line["request_id"] == "req-123"
    assert line["message"] == "refused /api/v1/alertmanager/[redacted]/"
    assert "hk_abcdefghijklmnop" not in json.dumps(line)


def test_a_webhook_secret_in_a_query_string_is_hidden(json_log):
    logger, lines = json_log
    logger.warning('"POST /jira/alpha/3/webhook/?secret=s3cr3t-value&x=1 HTTP/1.1" 403')

    (line,) = lines()
    assert "s3cr3t" not in line["message"]
    assert "/jira/alpha/3/webhook/?secret=[redacted]&x=1" in line["message"]


def test_a_delivery_task_sets_the_notification_id(json_log):
    logger, lines = json_log
    task_prerun.send(sender=deliver_notification, task=deliver_notification, args=(42,), kwargs={})
    logger.info("sending")
    task_postrun.send(sender=deliver_notification, task=deliver_notification)
    logger.info("idle")

    sending, idle = lines()
    assert sending["notification_id"] == 42
    assert idle["notification_id"] is None
    assert sending["tenant"] == ""  # public schema: no tenant


def test_requests_get_an_id_echoed_back(db):
    with keep_schema():
        given = public_client().get("/api/v1/health", HTTP_X_REQUEST_ID="lb-7f3a")
        made = public_client().get("/api/v1/health")
        unsafe = public_client().get("/api/v1/health", HTTP_X_REQUEST_ID="a b\nc")
    assert given["X-Request-ID"] == "lb-7f3a"
    assert len(made["X-Request-ID"]) == 32
    assert unsafe["X-Request-ID"] != "a b\nc"
    assert connection.schema_name == "public"


def test_herald_log_format_json_switches_the_console_to_json():
    script = (
        "import logging; "
        "logging.getLogger('herald').warning('key hk_abcdefghijklmnop leaked?')"
    )
    env = {
        **os.environ,
        "HERALD_LOG_FORMAT": "json",
        "DJANGO_SETTINGS_MODULE": "alerting.infra.settings",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "key hk_[redacted] leaked?"
    assert line["level"] == "WARNING" and "time" in line and "request_id" in line


def test_each_send_of_a_batch_names_its_notification(alpha, json_log, httpserver):
    logger, lines = json_log
    sending_logger = logging.getLogger("receivers.delivery.send")
    sending_logger.addHandler(logger.handlers[0])
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})
    notifications = [NotificationFactory(receiver=receiver) for _ in range(3)]
    try:
        notifications_deliver(notification_ids=[n.id for n in notifications])
    finally:
        sending_logger.removeHandler(logger.handlers[0])

    failures = [line for line in lines() if "failed (will retry)" in line["message"]]
    assert sorted(line["notification_id"] for line in failures) == sorted(
        n.id for n in notifications
    )
