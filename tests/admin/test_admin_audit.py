"""Configuration changes through the admin are audited, secrets redacted."""

from __future__ import annotations

import json

from alerting.audit.models import AuditEntry
from alerting.audit.selectors import audit_chain_verify
from receivers.models import Receiver
from tests.admin.test_permissions import get, post
from tests.factories import ReceiverFactory

FIRST = "https://hooks.slack.com/services/T0/B0/firstS3cret"
SECOND = "https://hooks.slack.com/services/T0/B0/secondS3cret"


def _no_secret_anywhere() -> None:
    dumped = json.dumps(list(AuditEntry.objects.values("before", "after", "object_repr")))
    assert "S3cret" not in dumped and "Zm9v" not in dumped


def test_receiver_create_update_delete_are_audited_without_secrets(alpha, users, client_as):
    client = client_as("editor")
    form = {"name": "sre-slack", "enabled": "on", "max_attempts": 3, "language": "en"}
    response = post(client, "/admin/receivers/receiver/add/?kind=slack", {**form, "url": FIRST})
    assert response.status_code == 302, response.content.decode()[:2000]
    receiver = Receiver.objects.get(name="sre-slack")
    created = AuditEntry.objects.get(action="create")
    assert (created.actor, created.source, created.ip) == ("editor-alpha", "admin", "127.0.0.1")
    assert created.object_type == "receivers.receiver" and created.object_id == str(receiver.pk)
    assert created.before is None
    assert created.after["secrets"] == {"url": "[redacted]"}
    assert created.after["name"] == "sre-slack"

    url = f"/admin/receivers/receiver/{receiver.pk}/change/"
    post(client, url, {**form, "name": "sre-slack-2", "url": SECOND})
    updated = AuditEntry.objects.get(action="update")
    assert updated.before["name"] == "sre-slack" and updated.after["name"] == "sre-slack-2"
    assert updated.before["secrets"] == {"url": "[redacted]"}
    assert updated.after["secrets"] == {"url": "[redacted, changed]"}

    post(client, url, {**form, "name": "sre-slack-2", "url": ""})  # empty keeps the secret
    kept = AuditEntry.objects.filter(action="update").order_by("-id").first()
    assert kept.after["secrets"] == {"url": "[redacted]"}

    post(client, f"/admin/receivers/receiver/{receiver.pk}/delete/", {"post": "yes"})
    deleted = AuditEntry.objects.get(action="delete")
    assert deleted.before["name"] == "sre-slack-2" and deleted.after is None
    assert deleted.object_id == str(receiver.pk)
    _no_secret_anywhere()
    assert audit_chain_verify().intact


def test_route_silence_policy_and_template_changes_are_audited(alpha, users, client_as):
    client = client_as("editor")
    receiver = ReceiverFactory(name="hook")
    post(
        client,
        "/admin/alerting/route/add/",
        {
            "name": "db",
            "position": 1,
            "matchers": 'team="db"',
            "min_severity": 0,
            "receivers": [receiver.pk],
        },
    )
    post(
        client,
        "/admin/alerting/silence/add/",
        {
            "matchers": 'instance="db-1"',
            "kind": "once",
            "starts_at_0": "2026-01-01",
            "starts_at_1": "00:00",
            "ends_at_0": "2026-01-02",
            "ends_at_1": "00:00",
            "weekdays": "[]",
            "time_zone": "UTC",
        },
    )
    post(
        client,
        "/admin/escalation/escalationpolicy/add/",
        {
            "name": "night",
            "repeat_count": 0,
            "business_hours": "always",
            "levels-TOTAL_FORMS": 1,
            "levels-INITIAL_FORMS": 0,
            "levels-0-position": 0,
            "levels-0-delay_minutes": 5,
            "levels-0-receivers": [receiver.pk],
        },
    )
    post(
        client,
        "/admin/receivers/messagetemplate/add/",
        {
            "channel": "slack",
            "language": "en",
            "part": "title",
            "source": "{{ alertname }}!",
        },
    )
    created = {e.object_type: e for e in AuditEntry.objects.filter(action="create")}
    assert created["alerting.route"].after["receivers"] == [receiver.pk]
    assert created["alerting.silence"].after["matchers"] == 'instance="db-1"'
    assert created["escalation.escalationpolicy"].after["levels"] == [
        {"position": 0, "delay_minutes": 5, "receivers": [receiver.pk]}
    ]
    assert created["receivers.messagetemplate"].after["source"] == "{{ alertname }}!"


def test_auditors_browse_the_audit_log(alpha, users, client_as):
    post(
        client_as("editor"),
        "/admin/alerting/route/add/",
        {"name": "web", "position": 1, "matchers": "", "min_severity": 0},
    )
    page = get(client_as("auditor"), "/admin/audit/auditentry/?action=create").content.decode()
    assert "editor-alpha" in page and "web" in page
    entry = AuditEntry.objects.get(action="create")
    detail = get(client_as("auditor"), f"/admin/audit/auditentry/{entry.pk}/change/")
    assert entry.hash in detail.content.decode()


def test_history_page_shows_the_objects_audit_entries(alpha, users, client_as):
    client = client_as("editor")
    post(
        client,
        "/admin/alerting/route/add/",
        {"name": "web", "position": 1, "matchers": "", "min_severity": 0},
    )
    from alerting.models import Route

    route = Route.objects.get(name="web")
    page = get(client_as("auditor"), f"/admin/alerting/route/{route.pk}/history/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "editor-alpha" in text and "create" in text
