"""ServiceNow for real: HTTP ingest → PostgreSQL → broker → worker → the stand-in instance,
and the instance's Business Rule back to Herald's live server."""

from __future__ import annotations

import json

import pytest
import requests
from django_tenants.utils import tenant_context

from alerting.models import AlertGroup
from receivers.models import Notification, NotificationState
from receivers.services import receiver_create
from tests.conftest import wait_for
from tests.factories import WebhookAlertFactory, WebhookPayloadFactory
from tests.ingest import INGEST
from tests.receivers.tickets.servicenow_standin import PASSWORD, StandInServiceNow

pytestmark = pytest.mark.e2e

SECRET = "sync-back-secret-0123456789"


def settled(tenant) -> list[Notification]:
    with tenant_context(tenant):
        return list(Notification.objects.exclude(state__in=["pending", "sending"]))


def test_a_worker_opens_notes_and_resolves_the_ticket_and_the_ticket_acknowledges_back(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key, settings,
):
    settings.HERALD_GROUP_WINDOW_SECONDS = 0  # each message goes at once, not merged
    alpha = committed_tenants["alpha"]
    servicenow = StandInServiceNow(httpserver)
    with tenant_context(alpha):
        receiver = receiver_create(name="snow", kind="servicenow", config=servicenow.config(),
                                   secrets={"password": PASSWORD, "webhook_secret": SECRET})
    key = ingest_key(alpha)
    firing = WebhookPayloadFactory(alerts=[WebhookAlertFactory()])

    def ingest(payload) -> None:
        response = requests.post(live_server.url + INGEST, json=payload, timeout=10,
                                 headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, response.text

    ingest(firing)
    wait_for(lambda: len(settled(alpha)) == 1, timeout=30)
    [incident] = servicenow.incidents.values()
    assert incident["short_description"].startswith("[FIRING:1] HighLatency")

    # Carol takes the ticket in ServiceNow; the Business Rule tells Herald.
    body = json.dumps({"sys_id": incident["sys_id"], "number": incident["number"],
                       "state": "2", "assigned_to": "carol", "sys_updated_by": "carol"})
    answer = requests.post(f"{live_server.url}/servicenow/alpha/{receiver.id}/webhook/",
                           data=body, timeout=10, headers={
                               "Content-Type": "application/json", "X-Herald-Secret": SECRET})
    assert answer.status_code == 200 and answer.json()["result"] == "acknowledge", answer.text
    with tenant_context(alpha):
        assert AlertGroup.objects.get().acknowledged_by == "servicenow:carol"

    # Herald's channels hear of it, the ticket as a work note.
    wait_for(lambda: len(settled(alpha)) == 2, timeout=30)
    assert servicenow.work_notes[incident["sys_id"]][0].startswith(
        "[Herald] Acknowledged in Herald by servicenow:carol.")

    ingest({**firing, "status": "resolved",
            "alerts": [{**alert, "status": "resolved", "endsAt": "2026-12-01T15:00:00Z"}
                       for alert in firing["alerts"]]})
    wait_for(lambda: len(settled(alpha)) == 3, timeout=30)
    assert [n.state for n in settled(alpha)] == [NotificationState.DELIVERED] * 3
    assert servicenow.incidents[incident["sys_id"]]["state"] == "6"
    assert len(servicenow.incidents) == 1
