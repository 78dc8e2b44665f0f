"""An action link acts on the incident it was sent for, signed with a key that is still good."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from alerting.models import AlertGroup
from receivers.delivery import notification_deliver
from receivers.models import Notification
from tenants.models import Tenant
from tests.factories import (
    ReceiverFactory,
    RouteFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import keep_schema, post, public_client

GROUP_KEY = '{}:{alertname="DiskFull"}'


def alertmanager_says(key: str, status: str, starts_at: str) -> None:
    alert = WebhookAlertFactory(
        status=status, startsAt=starts_at, fingerprint="d15cf011d15cf011",
        labels={"alertname": "DiskFull", "instance": "db-1"},
        endsAt="2026-11-23T11:00:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
    )
    payload = WebhookPayloadFactory(
        groupKey=GROUP_KEY, status=status, alerts=[alert],
        commonLabels={"alertname": "DiskFull"}, groupLabels={"alertname": "DiskFull"},
    )
    assert post(public_client(), payload, key).status_code == 200


def link_of_the_last_message(httpserver) -> str:
    """The acknowledge link of the newest message that has one (a resolve has none)."""
    bodies = [request.get_data(as_text=True) for request, _ in httpserver.log]
    links = [re.search(r"/ack/([^/\"]+)/", body) for body in bodies]
    return [link for link in links if link][-1].group(1)


def deliver_pending() -> None:
    for notification in Notification.objects.filter(state="pending").order_by("id"):
        notification_deliver(notification_id=notification.id)


def click(token: str, method: str = "post"):
    """Open the link and, for "post", press its button."""
    client = Client(HTTP_HOST="127.0.0.1")
    with keep_schema():
        if method == "get":
            return client.get(f"/ack/{token}/")
        return client.post(f"/ack/{token}/")


@pytest.fixture
def paged(alpha, ingest_key, httpserver, settings):
    """Alertmanager posts to alpha; its one route pages a Slack stand-in."""
    settings.HERALD_BASE_URL = "http://127.0.0.1"
    settings.HERALD_GROUP_WINDOW_SECONDS = 0  # every message goes at once
    httpserver.expect_request("/slack").respond_with_data("ok")
    slack = ReceiverFactory(name="oncall-slack", kind="slack",
                            secrets={"url": httpserver.url_for("/slack")})
    RouteFactory(receivers=[slack])
    return ingest_key(alpha)


def test_a_link_from_a_resolved_incident_is_refused_on_the_next_one(paged, httpserver):
    alertmanager_says(paged, "firing", "2026-11-23T10:00:00Z")
    deliver_pending()
    first_link = link_of_the_last_message(httpserver)
    alertmanager_says(paged, "resolved", "2026-11-23T10:00:00Z")
    alertmanager_says(paged, "firing", "2026-11-23T12:00:00Z")  # a new incident
    deliver_pending()
    second_link = link_of_the_last_message(httpserver)

    opened = click(first_link, method="get")
    pressed = click(first_link)

    for page in (opened, pressed):
        assert page.status_code == 410
        assert b"earlier incident" in page.content
    group = AlertGroup.objects.get(group_key=GROUP_KEY)
    assert group.incident == 2 and group.acknowledged_at is None
    # The link sent for this incident still acknowledges it, as its recipient.
    assert click(second_link).status_code == 200
    group.refresh_from_db()
    assert group.acknowledged_by == "link:oncall-slack"


def test_a_link_signed_with_a_retired_key_works_during_the_grace_period_only(
    paged, httpserver, settings, capsys
):
    settings.HERALD_LINK_KEY_GRACE_SECONDS = 3600
    alertmanager_says(paged, "firing", "2026-11-23T10:00:00Z")
    deliver_pending()
    old_link = link_of_the_last_message(httpserver)

    call_command("rotate_link_keys", "alpha")
    assert "keep working for 1 hours" in capsys.readouterr().out

    soon = timezone.now() + timedelta(minutes=30)
    with time_machine.travel(soon, tick=False):
        assert click(old_link, method="get").status_code == 200  # within the grace period
    later = timezone.now() + timedelta(hours=2)  # past the grace, not the link's age
    with time_machine.travel(later, tick=False):
        refused = click(old_link)
    assert refused.status_code == 410
    assert b"retired" in refused.content
    assert AlertGroup.objects.get(group_key=GROUP_KEY).acknowledged_at is None


def test_after_a_rotation_new_links_are_signed_with_the_new_key(paged, httpserver, alpha):
    before = Tenant.objects.get(id=alpha.id).link_signing_key
    call_command("rotate_link_keys")
    after = Tenant.objects.get(id=alpha.id)
    assert after.link_signing_key != before
    assert [entry["key"] for entry in after.link_signing_keys_retired] == [before]

    alertmanager_says(paged, "firing", "2026-11-23T10:00:00Z")
    deliver_pending()
    assert click(link_of_the_last_message(httpserver)).status_code == 200

    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        call_command("rotate_link_keys")  # the first key is past its grace: dropped
    assert len(Tenant.objects.get(id=alpha.id).link_signing_keys_retired) == 1
