"""test_notifications: a sample alert rendered for a receiver, and sent unless --dry-run."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from receivers.models import Notification
from tests.factories import ReceiverFactory


def run(**options) -> str:
    out = StringIO()
    call_command("test_notifications", tenant="alpha", stdout=out, **options)
    return out.getvalue()


def test_dry_run_renders_and_sends_nothing(alpha, httpserver):
    ReceiverFactory(name="chat", kind="slack", secrets={"url": httpserver.url_for("/slack")})

    output = run(receiver="chat", dry_run=True)

    assert "--- title ---" in output and "HighLatency" in output
    assert "dry run: nothing sent to chat (slack)" in output
    assert httpserver.log == []


def test_a_send_posts_the_sample_and_prints_the_outcome(alpha, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok", status=202)
    ReceiverFactory(name="hook", secrets={"url": httpserver.url_for("/hook")})

    output = run(receiver="hook")

    assert "sent to hook (webhook) (HTTP 202)" in output
    (request, _), = httpserver.log
    body = json.loads(request.data)
    assert body["receiver"] == "hook" and body["commonLabels"]["alertname"] == "HighLatency"
    assert not Notification.objects.exists()  # a check leaves no history behind


def test_a_failed_send_says_so_without_the_secret(alpha, httpserver):
    httpserver.expect_request("/hook").respond_with_data("nope", status=503)
    url = httpserver.url_for("/hook?token=s3cr3t")
    ReceiverFactory(name="hook", secrets={"url": url})

    with pytest.raises(CommandError) as caught:
        run(receiver="hook")

    assert "failed, would be retried: HTTP 503" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


def test_an_unknown_receiver_is_an_error(alpha):
    with pytest.raises(CommandError, match="no receiver 'ghost'"):
        run(receiver="ghost")


def test_a_webhook_dry_run_prints_the_body_it_would_send(alpha):
    ReceiverFactory(name="hook", secrets={"url": "http://127.0.0.1:9/hook"})
    ReceiverFactory(name="templated", secrets={"url": "http://127.0.0.1:9/hook"},
                    config={"body_template": "alert {{ alertname }} is {{ status }}"})

    assert '"commonLabels": {' in run(receiver="hook", dry_run=True)
    assert "--- body ---\nalert HighLatency is firing" in run(receiver="templated", dry_run=True)
