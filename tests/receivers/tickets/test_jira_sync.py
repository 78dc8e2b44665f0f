"""Jira end to end: an alert opens an issue, and the issue's moves in Jira come back to Herald.

The alert goes through ingest, routing and delivery to the stand-in Jira;
then Jira's webhook posts the issue's changes (jira:issue_updated with its
changelog) to the receiver's sync-back URL, which carries its secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from alerting.audit.models import AuditEntry
from alerting.models import AlertGroup
from receivers.delivery.deliver import notification_deliver
from receivers.models import Notification
from tests.factories import (
    ReceiverFactory,
    RouteFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import keep_schema, post, public_client
from tests.receivers.tickets.jira_standin import HERALD_ACCOUNT, STATUSES, JiraStandIn

SECRET = "jira-sync-secret-0123456789"


@pytest.fixture
def jira(httpserver):
    return JiraStandIn(httpserver, cloud=True).install()


@pytest.fixture
def receiver(alpha, jira):
    config, secrets = jira.receiver_settings(acknowledged_statuses=["In Progress"])
    receiver = ReceiverFactory(name="jira", kind="jira", config=config,
                               secrets={**secrets, "webhook_secret": SECRET})
    RouteFactory(receivers=[receiver])
    return receiver


@pytest.fixture
def issue(alpha, receiver, jira, ingest_key):
    """An alert fired; Herald opened OPS-1 for it."""
    payload = WebhookPayloadFactory(alerts=[WebhookAlertFactory()])
    with keep_schema():
        assert post(public_client(), payload, ingest_key(alpha)).status_code == 200
    for notification in Notification.objects.filter(state="pending"):
        notification_deliver(notification_id=notification.id)
    return AlertGroup.objects.get(group_key=payload["groupKey"]), jira.only_issue()


def moved(key: str, to: str, *, user: dict | None = None) -> dict:
    """jira:issue_updated as Jira Cloud posts it when someone moves the issue."""
    return {
        "timestamp": 1764600000000, "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": user or {"accountId": "712020:bob", "emailAddress": "bob@example.com",
                         "displayName": "Bob"},
        "issue": {"id": "10001", "key": key, "fields": {"status": {
            "name": to, "statusCategory": {"key": STATUSES[to]}}}},
        "changelog": {"id": "10100", "items": [{
            "field": "status", "fieldtype": "jira", "fromString": "To Do", "toString": to}]},
    }


def hook(receiver, body: dict, *, secret: str | None = SECRET, signed: bool = False):
    raw = json.dumps(body).encode()
    url = f"/jira/alpha/{receiver.id}/webhook/"
    headers = {}
    if signed:
        digest = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        headers["HTTP_X_HUB_SIGNATURE"] = f"sha256={digest}"
    elif secret is not None:
        url += f"?secret={secret}"
    with keep_schema():
        return public_client().post(url, data=raw, content_type="application/json", **headers)


def test_delivery_opens_one_issue_and_keeps_its_key(issue):
    group, jira_issue = issue

    notification = Notification.objects.get(alert_group=group)
    assert notification.state == "delivered"
    assert notification.vendor_ref["issue_key"] == jira_issue.key


def test_an_issue_moved_to_done_resolves_the_incident_as_its_jira_user(issue, receiver):
    group, jira_issue = issue

    response = hook(receiver, moved(jira_issue.key, "Done"))

    assert response.status_code == 200, response.content
    assert response.json()["result"] == "resolve"
    group.refresh_from_db()
    assert (group.status, group.resolved_by) == ("resolved", "jira:bob@example.com")
    entry = AuditEntry.objects.filter(action="resolve", object_id=str(group.id)).get()
    assert entry.actor == "jira:bob@example.com"
    assert entry.after["channel"] == "jira"


def test_an_issue_moved_to_an_acknowledged_status_acknowledges_it(issue, receiver):
    group, jira_issue = issue

    response = hook(receiver, moved(jira_issue.key, "In Progress"), signed=True)

    assert response.json()["result"] == "acknowledge", response.content
    group.refresh_from_db()
    assert (group.status, group.acknowledged_by) == ("firing", "jira:bob@example.com")


@pytest.mark.parametrize("secret", ["wrong-secret", None])
def test_a_wrong_or_missing_secret_is_refused_and_nothing_changes(issue, receiver, secret):
    group, jira_issue = issue

    response = hook(receiver, moved(jira_issue.key, "Done"), secret=secret)

    assert response.status_code == 403
    group.refresh_from_db()
    assert group.status == "firing"
    assert not AuditEntry.objects.filter(action="resolve").exists()


def test_a_change_made_by_heralds_own_api_user_is_ignored(issue, receiver):
    group, jira_issue = issue

    response = hook(receiver, moved(jira_issue.key, "Done",
                                    user={"accountId": HERALD_ACCOUNT, "displayName": "Herald"}))

    assert response.json()["result"] == "ignored"
    group.refresh_from_db()
    assert group.status == "firing"


def test_a_comment_or_an_unknown_issue_changes_nothing(issue, receiver):
    group, jira_issue = issue
    comment = {**moved(jira_issue.key, "Done"), "webhookEvent": "comment_created",
               "changelog": {"items": []}}

    assert hook(receiver, comment).json()["result"] == "ignored"
    assert hook(receiver, moved("OPS-999", "Done")).json()["result"] == "ignored"
    group.refresh_from_db()
    assert group.status == "firing"


def test_a_body_of_the_wrong_shape_is_a_400_naming_the_field(issue, receiver):
    response = hook(receiver, {"webhookEvent": "jira:issue_updated", "issue": {"key": "x y"}})

    assert response.status_code == 400
    assert "issue.key" in response.json()["errors"]
