"""ServiceNow end to end: an alert opens a ticket, and the ticket's changes come back to Herald.

The alert goes through ingest, routing and delivery to the stand-in Table
API; then the instance's Business Rule posts the ticket's changes to the
receiver's sync-back URL, authenticated by the receiver's secret.
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
from tests.receivers.tickets.servicenow_standin import PASSWORD, USER, StandInServiceNow

SECRET = "sync-back-secret-0123456789"


@pytest.fixture
def servicenow(httpserver, settings):
    settings.HERALD_GROUP_WINDOW_SECONDS = 0  # each message goes at once, not merged
    return StandInServiceNow(httpserver)


@pytest.fixture
def receiver(alpha, servicenow):
    receiver = ReceiverFactory(name="servicenow", kind="servicenow", config=servicenow.config(),
                               secrets={"password": PASSWORD, "webhook_secret": SECRET})
    RouteFactory(receivers=[receiver])
    return receiver


@pytest.fixture
def ticket(alpha, receiver, servicenow, ingest_key):
    """An alert fired; Herald opened INC0000001 for it: (group, incident, payload)."""
    payload = WebhookPayloadFactory(alerts=[WebhookAlertFactory()])
    with keep_schema():
        assert post(public_client(), payload, ingest_key(alpha)).status_code == 200
    for notification in Notification.objects.filter(state="pending"):
        notification_deliver(notification_id=notification.id)
    [incident] = servicenow.incidents.values()
    group = AlertGroup.objects.get(group_key=payload["groupKey"])
    return group, incident, payload


def sync(receiver, change: dict, *, secret: str = SECRET, signed: bool = False):
    """Post as the Business Rule does."""
    body = json.dumps(change).encode()
    if signed:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {"HTTP_X_HERALD_SIGNATURE": f"sha256={digest}"}
    else:
        headers = {"HTTP_X_HERALD_SECRET": secret}
    with keep_schema():
        return public_client().post(f"/servicenow/alpha/{receiver.id}/webhook/", data=body,
                                    content_type="application/json", **headers)


def change(incident: dict, **fields) -> dict:
    return {"sys_id": incident["sys_id"], "number": incident["number"], "state": "2",
            "assigned_to": "", "sys_updated_by": "bob", **fields}


def test_delivery_opens_one_ticket_and_keeps_its_reference(ticket):
    group, incident, _ = ticket

    notification = Notification.objects.get(alert_group=group)
    assert notification.state == "delivered"
    assert notification.vendor_ref == {"sys_id": incident["sys_id"], "number": "INC0000001"}
    assert incident["short_description"].startswith("[FIRING:1]")


def test_a_ticket_resolved_in_servicenow_resolves_the_incident_as_its_user(ticket, receiver):
    group, incident, _ = ticket

    response = sync(receiver, change(incident, state="6"))

    assert response.status_code == 200, response.content
    assert response.json()["result"] == "resolve"
    group.refresh_from_db()
    assert group.status == "resolved"
    entry = AuditEntry.objects.filter(action="resolve").get()
    assert entry.actor == "servicenow:bob"
    assert entry.after["channel"] == "servicenow"


def test_an_assigned_ticket_in_progress_acknowledges_with_a_signed_body(ticket, receiver):
    group, incident, _ = ticket

    response = sync(receiver, change(incident, assigned_to="carol", sys_updated_by="carol"),
                    signed=True)

    assert response.json()["result"] == "acknowledge"
    group.refresh_from_db()
    assert group.acknowledged_at is not None
    assert group.acknowledged_by == "servicenow:carol"


def test_a_wrong_or_missing_secret_changes_nothing(ticket, receiver):
    group, incident, _ = ticket

    wrong = sync(receiver, change(incident, state="7"), secret="not-the-secret-at-all")
    bad_signature = sync(receiver, change(incident, state="7"), secret="x" * 20, signed=True)
    with keep_schema():
        missing = public_client().post(f"/servicenow/alpha/{receiver.id}/webhook/",
                                       data=json.dumps(change(incident, state="7")),
                                       content_type="application/json")

    assert [wrong.status_code, bad_signature.status_code, missing.status_code] == [403] * 3
    group.refresh_from_db()
    assert group.status == "firing"
    assert not AuditEntry.objects.filter(action="resolve").exists()


def test_heralds_own_update_is_not_echoed_back(ticket, receiver):
    group, incident, _ = ticket

    by_herald = sync(receiver, change(incident, state="6", sys_updated_by=USER))
    marked = sync(receiver, change(incident, state="6", sys_updated_by="bob", work_notes=(
        "2026-12-01 15:00:00 - Herald Integration (Work notes)\n"
        "[Herald] All alerts of the group are resolved."
    )))

    assert by_herald.json()["result"] == marked.json()["result"] == "ignored"
    group.refresh_from_db()
    assert group.status == "firing"


def test_a_malformed_change_is_a_400_naming_the_fields(ticket, receiver):
    response = sync(receiver, {"sys_id": "INC0000001", "state": ["6"]})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"sys_id", "state"}


def test_another_tenants_receiver_is_not_found(ticket, receiver, beta):
    _, incident, _ = ticket
    with keep_schema():
        response = public_client().post(f"/servicenow/beta/{receiver.id}/webhook/",
                                        data=json.dumps(change(incident, state="6")),
                                        content_type="application/json",
                                        HTTP_X_HERALD_SECRET=SECRET)
    assert response.status_code == 404


def deliver_pending() -> None:
    for notification in Notification.objects.filter(state="pending").order_by("id"):
        notification_deliver(notification_id=notification.id)


def test_the_acknowledgement_comes_back_as_a_work_note_whose_echo_changes_nothing(
    ticket, receiver, servicenow,
):
    _, incident, _ = ticket
    sync(receiver, change(incident, assigned_to="carol", sys_updated_by="carol"))

    deliver_pending()  # Herald tells its channels who acknowledged, ServiceNow too

    [note] = servicenow.work_notes[incident["sys_id"]]
    assert note.startswith("[Herald] Acknowledged in Herald by servicenow:carol.")
    assert len(servicenow.incidents) == 1
    # The Business Rule fires for Herald's note too: by the integration user, ignored.
    echo = sync(receiver, change(incident, state="2", assigned_to="carol",
                                 sys_updated_by=USER, work_notes=note))
    assert echo.json()["result"] == "ignored"
    assert AuditEntry.objects.filter(action="acknowledge").count() == 1


def test_the_alerts_resolving_resolve_the_ticket_with_close_notes(
    alpha, ticket, servicenow, ingest_key,
):
    _, incident, fired = ticket
    resolved = {**fired, "status": "resolved", "alerts": [
        {**alert, "status": "resolved", "endsAt": "2026-12-01T15:00:00Z"}
        for alert in fired["alerts"]
    ]}
    with keep_schema():
        assert post(public_client(), resolved, ingest_key(alpha)).status_code == 200

    deliver_pending()

    record = servicenow.incidents[incident["sys_id"]]
    assert record["state"] == "6"
    assert record["close_code"] == "Solution provided"
    assert record["close_notes"].startswith("All alerts of the group are resolved.")
    assert len(servicenow.incidents) == 1


def test_an_oversized_body_is_refused_before_it_is_read(ticket, receiver):
    _, incident, _ = ticket

    response = sync(receiver, change(incident, state="6", work_notes="x" * 70_000))

    assert response.status_code == 413
