"""Every notification carries a signed link; only a good, fresh one acknowledges."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.models import AlertGroup
from alerting.services import alert_group_acknowledge
from escalation.links import acknowledge_token, acknowledge_url
from receivers.delivery import notification_deliver
from receivers.models import Notification
from tests.factories import AlertGroupFactory, NotificationFactory, ReceiverFactory
from tests.ingest import keep_schema


@pytest.fixture
def group(alpha):
    return AlertGroupFactory(common_labels={"alertname": "DiskFull"})


def visit(token: str, method: str = "get"):
    """Open the link; for "post", submit the page's form as a browser would."""
    client = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True)
    with keep_schema():
        page = client.get(f"/ack/{token}/")
        if method == "get":
            return page
        csrf = page.cookies["csrftoken"].value
        return client.post(f"/ack/{token}/", {"csrfmiddlewaretoken": csrf})


def post_directly(token: str):
    """POST without the confirmation page (a bad link has no form to submit)."""
    with keep_schema():
        return Client(HTTP_HOST="127.0.0.1").post(f"/ack/{token}/")


def test_the_link_points_at_herald_and_names_the_group(alpha, group, settings):
    settings.HERALD_BASE_URL = "https://herald.example.com"
    url = acknowledge_url(tenant=alpha, alert_group_id=group.id)
    assert url.startswith("https://herald.example.com/ack/alpha:")


def test_opening_the_link_asks_before_acknowledging(alpha, group):
    page = visit(acknowledge_token(tenant=alpha, alert_group_id=group.id))

    assert page.status_code == 200
    assert b"DiskFull" in page.content and b"Acknowledge" in page.content
    group.refresh_from_db()
    assert group.acknowledged_at is None


def test_posting_the_form_acknowledges_and_says_who(alpha, group):
    page = visit(acknowledge_token(tenant=alpha, alert_group_id=group.id), method="post")

    assert page.status_code == 200
    assert b"Acknowledged" in page.content
    group.refresh_from_db()
    assert (group.acknowledged_by, group.acknowledged_at is not None) == ("link", True)


def test_an_expired_link_gets_a_clear_error(alpha, group, settings):
    token = acknowledge_token(tenant=alpha, alert_group_id=group.id)
    later = timezone.now() + timedelta(seconds=settings.HERALD_ACK_LINK_MAX_AGE_SECONDS + 60)
    with time_machine.travel(later, tick=False):
        page = post_directly(token)

    assert page.status_code == 410
    assert b"expired" in page.content
    group.refresh_from_db()
    assert group.acknowledged_at is None


def _other_group(token: str) -> str:
    slug, group_id, rest = token.split(":", 2)
    return f"{slug}:{int(group_id) + 1}:{rest}"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        _other_group,
        lambda token: "nobody" + token[token.index(":"):],
    ],
    ids=["signature", "group id", "unknown tenant"],
)
def test_a_tampered_link_acknowledges_nothing(alpha, group, tamper):
    page = post_directly(tamper(acknowledge_token(tenant=alpha, alert_group_id=group.id)))

    assert page.status_code == 400
    assert b"not valid" in page.content
    group.refresh_from_db()
    assert group.acknowledged_at is None


def test_another_tenants_key_cannot_sign_for_this_tenant(alpha, beta, group):
    # beta's own valid link, relabelled as alpha's.
    beta_token = acknowledge_token(tenant=beta, alert_group_id=group.id)
    forged = "alpha" + beta_token[len("beta"):]

    assert post_directly(forged).status_code == 400
    with tenant_context(alpha):
        assert AlertGroup.objects.get(id=group.id).acknowledged_at is None


def test_a_delivered_message_carries_a_link_that_acknowledges(alpha, httpserver, settings):
    settings.HERALD_BASE_URL = "http://127.0.0.1"
    httpserver.expect_request("/slack").respond_with_data("ok")
    slack = ReceiverFactory(kind="slack", secrets={"url": httpserver.url_for("/slack")})
    notification = NotificationFactory(receiver=slack)

    notification_deliver(notification_id=notification.id)

    body = httpserver.log[0][0].get_data(as_text=True)
    token = re.search(r"/ack/([^/\"]+)/", body).group(1)
    assert visit(token, method="post").status_code == 200
    group = AlertGroup.objects.get(id=notification.alert_group_id)
    assert group.acknowledged_by == "link"


def test_pagerduty_hears_the_acknowledgement_with_the_same_dedup_key(alpha, httpserver):
    httpserver.expect_request("/v2/enqueue").respond_with_data("{}", status=202)
    pagerduty = ReceiverFactory(
        kind="pagerduty", secrets={"routing_key": "r" * 32},
        config={"events_url": httpserver.url_for("/v2/enqueue")},
    )
    trigger = NotificationFactory(receiver=pagerduty)
    notification_deliver(notification_id=trigger.id)

    alert_group_acknowledge(alert_group_id=trigger.alert_group_id, by="alice")
    acknowledgement = Notification.objects.get(acknowledgement=True)
    notification_deliver(notification_id=acknowledgement.id)

    events = [request.get_json() for request, _ in httpserver.log]
    assert [event["event_action"] for event in events] == ["trigger", "acknowledge"]
    assert events[0]["dedup_key"] == events[1]["dedup_key"]
