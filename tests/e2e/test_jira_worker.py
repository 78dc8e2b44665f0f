"""Jira with the real worker: an issue opened on firing, commented on a change, resolved on resolve.

And two workers sending the same incident at once open one issue: the
stand-in's searches are slow, so without the ticket lock both would search,
find nothing, and create.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
import requests
from django.db import connection
from django_tenants.utils import tenant_context

from receivers.delivery.deliver import notification_deliver
from receivers.models import Notification
from tests.conftest import wait_for
from tests.factories import (
    AlertGroupFactory,
    NotificationFactory,
    ReceiverFactory,
    RouteFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import INGEST
from tests.receivers.helpers import alert_message, transport
from tests.receivers.tickets.jira_standin import JiraStandIn, comment_text

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _worker_loads_tenants_anew(committed_tenants):
    """The worker caches tenants for a minute; committed_tenants made them anew (new keys)."""
    from tenant_schemas_celery.task import _shared_storage

    _shared_storage.clear()


def post(live_server, key, payload) -> None:
    response = requests.post(live_server.url + INGEST, json=payload,
                             headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert response.status_code == 200, response.content


def delivered(tenant, count: int) -> list[Notification]:
    def check():
        with tenant_context(tenant):
            rows = list(Notification.objects.order_by("id"))
            return rows if sum(n.state == "delivered" for n in rows) >= count else None

    return wait_for(check, timeout=30)


def test_the_worker_opens_comments_on_and_resolves_the_incidents_issue(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key
):
    alpha = committed_tenants["alpha"]
    jira = JiraStandIn(httpserver, cloud=False).install()  # Data Center: v2, Bearer, text
    with tenant_context(alpha):
        config, secrets = jira.receiver_settings()
        RouteFactory(receivers=[ReceiverFactory(name="jira", kind="jira", config=config,
                                                secrets=secrets)])
    key = ingest_key(alpha)
    first = WebhookAlertFactory()
    firing = WebhookPayloadFactory(alerts=[first])

    post(live_server, key, firing)
    [opened] = delivered(alpha, 1)
    issue = jira.only_issue()
    assert opened.vendor_ref["issue_key"] == issue.key
    assert issue.fields["summary"].startswith("[FIRING:1] HighLatency")

    # A second alert joins the group: a comment on the same issue.
    second = WebhookAlertFactory()
    post(live_server, key, {**firing, "alerts": [first, second]})
    delivered(alpha, 2)
    assert len(jira.only_issue().comments) == 1
    assert second["labels"]["instance"] in comment_text(issue.comments[0])

    resolved = {**firing, "status": "resolved", "alerts": [
        {**alert, "status": "resolved", "endsAt": "2026-11-23T10:20:00Z"}
        for alert in (first, second)]}
    post(live_server, key, resolved)
    rows = delivered(alpha, 3)
    assert [row.last_error for row in rows] == ["", "", ""]
    assert (jira.only_issue().status, issue.history) == ("Done", ["Done"])
    assert jira.problems == []


def _deliver_in_thread(tenant, notification_id, results):
    try:
        with tenant_context(tenant):
            results.append(notification_deliver(notification_id=notification_id))
    finally:
        connection.close()


def test_two_workers_sending_one_incident_at_once_open_one_issue(
    committed_tenants, httpserver, settings
):
    # No grouping window, and the second is an acknowledgement, which waits for
    # nothing: both are claimed and sent at once (a later firing would wait for
    # the first's send, and with a window it would merge, hiding the race).
    settings.HERALD_GROUP_WINDOW_SECONDS = 0
    alpha = committed_tenants["alpha"]
    jira = JiraStandIn(httpserver, cloud=True, search_delay=0.5).install()
    with tenant_context(alpha):
        config, secrets = jira.receiver_settings()
        receiver = ReceiverFactory(name="jira", kind="jira", config=config, secrets=secrets)
        group = AlertGroupFactory(incident=1)
        ids = [NotificationFactory(receiver=receiver, alert_group=group, incident=1).id,
               NotificationFactory(receiver=receiver, alert_group=group, incident=1,
                                   acknowledgement=True, group_update="acknowledged").id]
    results: list = []
    workers = [threading.Thread(target=_deliver_in_thread, args=(alpha, i, results))
               for i in ids]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    assert len(results) == 2
    with tenant_context(alpha):
        states = [(n.state, n.last_error) for n in Notification.objects.filter(id__in=ids)]
    assert states == [("delivered", "")] * 2
    issue = jira.only_issue()
    assert len(issue.comments) == 1  # the second worker found the first one's issue
    with tenant_context(alpha):
        refs = sorted(n.vendor_ref["issue_key"] for n in Notification.objects.filter(id__in=ids))
    assert refs == [issue.key, issue.key]


def test_without_the_lock_the_same_race_opens_two_issues(httpserver):
    """The race above is real: two unlocked sends of one incident both create."""
    jira = JiraStandIn(httpserver, cloud=True, search_delay=0.5).install()
    config, secrets = jira.receiver_settings()
    message = alert_message(incident=1, alert_group_id=7)
    senders = [threading.Thread(target=transport("jira", config=config, secrets=secrets).send,
                                args=(replace(message, notification_id=n),)) for n in (1, 2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=30)

    assert len(jira.issues) == 2
