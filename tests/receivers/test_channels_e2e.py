"""All eight channels, for real: HTTP ingest → PostgreSQL → broker → worker → stand-in vendors.

Each vendor is played by a local server (pytest-httpserver, aiosmtpd with
STARTTLS and AUTH); the test checks what each received for a firing alert
and then for its resolution. The SMTP fixture sets SSL_CERT_FILE for the whole
process, so the worker thread trusts the test certificate too.

It lives here rather than in tests/e2e/ for now: a worker that has run tasks
before tests/e2e/test_ingest_durability.py stops the broker dies there, and
tests/e2e/test_channels.py would sort first (see the closing report).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import pytest
import requests
from django_tenants.utils import tenant_context

from receivers.models import Notification, NotificationState
from receivers.services import receiver_create
from tests.conftest import wait_for
from tests.factories import WebhookAlertFactory, WebhookPayloadFactory
from tests.ingest import INGEST
from tests.receivers.smtp import PASSWORD, USERNAME, Mailbox

pytestmark = pytest.mark.e2e

TOKEN = "555000111:AAE2e-t0ken-for-the-e2e-test_xyz"
ROUTING_KEY = "e2eR0utingKey0123456789abcdef012"
GENIE_KEY = "e2e-genie-key-1234"
SIGNING_SECRET = "whsec_e2e_123456"
OPSGENIE_CLOSE = re.compile(r"^/v2/alerts/[0-9a-f]{64}/close$")


def stand_in_vendors(httpserver) -> None:
    httpserver.expect_request("/webhook", method="POST").respond_with_data("ok")
    httpserver.expect_request("/services/T1/B1/e2e", method="POST").respond_with_data("ok")
    httpserver.expect_request("/v2/enqueue", method="POST").respond_with_json(
        {"status": "success", "message": "Event processed"}, status=202
    )
    httpserver.expect_request("/workflows/e2e", method="POST").respond_with_data("", status=202)
    httpserver.expect_request("/api/webhooks/1/e2e", method="POST").respond_with_data(
        "", status=204
    )
    httpserver.expect_request("/v2/alerts", method="POST").respond_with_json(
        {"result": "Request will be processed"}, status=202
    )
    httpserver.expect_request(OPSGENIE_CLOSE, method="POST").respond_with_json(
        {"result": "Request will be processed"}, status=202
    )
    httpserver.expect_request(f"/bot{TOKEN}/sendMessage", method="POST").respond_with_json(
        {"ok": True, "result": {"message_id": 1}}
    )


def create_receivers(httpserver, mailbox: Mailbox) -> None:
    url = httpserver.url_for
    receivers = [
        ("webhook", {}, {"url": url("/webhook"), "signing_secret": SIGNING_SECRET}),
        ("slack", {}, {"url": url("/services/T1/B1/e2e")}),
        ("pagerduty", {"events_url": url("/v2/enqueue")}, {"routing_key": ROUTING_KEY}),
        ("msteams", {"language": "de"}, {"url": url("/workflows/e2e")}),
        ("discord", {"language": "fr"}, {"url": url("/api/webhooks/1/e2e")}),
        ("opsgenie", {"api_url": url("/")}, {"api_key": GENIE_KEY}),
        ("telegram", {"chat_id": -100200, "api_url": url("/")}, {"bot_token": TOKEN}),
        (
            "email",
            {
                "host": "127.0.0.1",
                "port": mailbox.port,
                "username": USERNAME,
                "from_address": "herald@example.com",
                "to": ["sre@example.com", "oncall@example.com"],
            },
            {"password": PASSWORD},
        ),
    ]
    for kind, config, secrets in receivers:
        receiver_create(name=f"e2e-{kind}", kind=kind, config=config, secrets=secrets)


def delivered(tenant) -> int:
    with tenant_context(tenant):
        return Notification.objects.filter(state=NotificationState.DELIVERED).count()


def settled(tenant) -> list[Notification]:
    with tenant_context(tenant):
        return list(Notification.objects.exclude(state__in=["pending", "sending"]))


def requests_to(httpserver, path) -> list:
    matches = (lambda p: bool(path.match(p))) if isinstance(path, re.Pattern) else path.__eq__
    return [request for request, _ in httpserver.log if matches(request.path)]


def test_all_eight_channels_deliver_firing_and_resolved(
    live_server, committed_tenants, celery_worker_thread, httpserver, smtp_starttls, ingest_key
):
    alpha = committed_tenants["alpha"]
    stand_in_vendors(httpserver)
    with tenant_context(alpha):
        create_receivers(httpserver, smtp_starttls)
    key = ingest_key(alpha)
    alert = WebhookAlertFactory(annotations={"summary": "Latenz über 2 s 🔥 <b>"})
    firing = WebhookPayloadFactory(alerts=[alert])

    response = requests.post(
        live_server.url + INGEST,
        json=firing,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["notifications"] == 8
    wait_for(lambda: len(settled(alpha)) == 8, timeout=30)
    assert delivered(alpha) == 8, [(n.channel, n.last_error) for n in settled(alpha)]

    hook = requests_to(httpserver, "/webhook")[0]
    timestamp = hook.headers["X-Herald-Timestamp"]
    expected = hmac.new(
        SIGNING_SECRET.encode(), timestamp.encode() + b"." + hook.data, hashlib.sha256
    ).hexdigest()
    assert hook.headers["X-Herald-Signature"] == f"sha256={expected}"
    assert json.loads(hook.data)["alerts"][0]["fingerprint"] == alert["fingerprint"]

    slack = json.loads(requests_to(httpserver, "/services/T1/B1/e2e")[0].data)
    assert slack["blocks"][0]["text"]["text"].startswith("🔴 [FIRING:1] HighLatency")

    trigger = json.loads(requests_to(httpserver, "/v2/enqueue")[0].data)
    assert trigger["event_action"] == "trigger" and trigger["routing_key"] == ROUTING_KEY

    teams = json.loads(requests_to(httpserver, "/workflows/e2e")[0].data)
    card = teams["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and "AUSGELÖST" in card["body"][0]["items"][0]["text"]

    discord = json.loads(requests_to(httpserver, "/api/webhooks/1/e2e")[0].data)
    assert discord["content"].startswith("🔴 [ALERTE:1]")

    create = requests_to(httpserver, "/v2/alerts")[0]
    assert create.headers["Authorization"] == f"GenieKey {GENIE_KEY}"
    opsgenie = json.loads(create.data)
    assert opsgenie["priority"] == "P1" and len(opsgenie["message"]) <= 130

    telegram = json.loads(requests_to(httpserver, f"/bot{TOKEN}/sendMessage")[0].data)
    assert telegram["chat_id"] == -100200 and telegram["parse_mode"] == "HTML"
    assert "Latenz über 2 s 🔥 &lt;b&gt;" in telegram["text"]

    [mail] = smtp_starttls.received
    assert mail.rcpt_tos == ["sre@example.com", "oncall@example.com"]
    assert smtp_starttls.logins == [USERNAME]
    assert "FIRING" in str(mail.message["Subject"])

    resolved = {
        **firing,
        "status": "resolved",
        "alerts": [{**alert, "status": "resolved", "endsAt": "2026-11-23T10:20:00Z"}],
    }
    response = requests.post(
        live_server.url + INGEST,
        json=resolved,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["notifications"] == 8
    wait_for(lambda: len(settled(alpha)) == 16, timeout=30)
    assert delivered(alpha) == 16, [(n.channel, n.last_error) for n in settled(alpha)]

    resolve = json.loads(requests_to(httpserver, "/v2/enqueue")[1].data)
    assert resolve["event_action"] == "resolve" and resolve["dedup_key"] == trigger["dedup_key"]
    [close] = requests_to(httpserver, OPSGENIE_CLOSE)
    assert close.args["identifierType"] == "alias"
    assert opsgenie["alias"] in close.path
    assert json.loads(requests_to(httpserver, "/webhook")[1].data)["status"] == "resolved"
    slack = json.loads(requests_to(httpserver, "/services/T1/B1/e2e")[1].data)
    assert slack["blocks"][0]["text"]["text"].startswith("✅ [RESOLVED]")
    teams = json.loads(requests_to(httpserver, "/workflows/e2e")[1].data)
    assert teams["attachments"][0]["content"]["body"][0]["style"] == "good"
    discord = json.loads(requests_to(httpserver, "/api/webhooks/1/e2e")[1].data)
    assert discord["embeds"][0]["color"] == 0x2E7D32
    telegram = json.loads(requests_to(httpserver, f"/bot{TOKEN}/sendMessage")[1].data)
    assert "RESOLVED" in telegram["text"]
    assert "RESOLVED" in str(smtp_starttls.received[1].message["Subject"])
