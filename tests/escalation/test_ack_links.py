"""Every notification carries a signed link; only a good, fresh one acknowledges.

A link is bound to the incident it was sent for and names who it went to.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.audit.models import AuditEntry
from alerting.models import AlertGroup
from alerting.services import alert_group_acknowledge
from escalation.links import acknowledge_url, action_token
from receivers.delivery import notification_deliver
from receivers.models import Notification
from tests.factories import AlertGroupFactory, NotificationFactory, ReceiverFactory
from tests.ingest import keep_schema


@pytest.fixture
def group(alpha):
    return AlertGroupFactory(common_labels={"alertname": "DiskFull"})


def token_for(tenant, group, recipient: str = "oncall-slack") -> str:
    return action_token(
        tenant=tenant, alert_group_id=group.id, incident=group.incident, recipient=recipient
    )


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


def test_the_link_points_at_herald_and_names_the_tenant(alpha, group, settings):
    settings.HERALD_BASE_URL = "https://herald.example.com"
    url = acknowledge_url(
        tenant=alpha, alert_group_id=group.id, incident=group.incident, recipient="ops"
    )
    assert url.startswith("https://herald.example.com/ack/alpha:")


def test_opening_the_link_asks_before_acknowledging_and_says_who_it_was_sent_to(alpha, group):
    page = visit(token_for(alpha, group, recipient="oncall-slack"))

    assert page.status_code == 200
    assert b"DiskFull" in page.content and b"Acknowledge" in page.content
    assert b"Sent to oncall-slack" in page.content
    group.refresh_from_db()
    assert group.acknowledged_at is None


def test_posting_the_form_acknowledges_as_the_person_it_was_sent_to(alpha, group):
    page = visit(token_for(alpha, group, recipient="oncall-slack"), method="post")

    assert page.status_code == 200
    assert b"Acknowledged" in page.content
    group.refresh_from_db()
    assert group.acknowledged_by == "link:oncall-slack" and group.acknowledged_at is not None
    entry = AuditEntry.objects.get(action="acknowledge")
    assert (entry.actor, entry.object_id) == ("link:oncall-slack", str(group.id))


def test_an_expired_link_gets_a_clear_error(alpha, group, settings):
    token = token_for(alpha, group)
    later = timezone.now() + timedelta(seconds=settings.HERALD_ACK_LINK_MAX_AGE_SECONDS + 60)
    with time_machine.travel(later, tick=False):
        page = post_directly(token)

    assert page.status_code == 410
    assert b"expired" in page.content
    group.refresh_from_db()
    assert group.acknowledged_at is None


def _other_group(token: str) -> str:
    """The same signature over a payload naming the next group."""
    slug, payload, rest = token.split(":", 2)
    value = json.loads(signing.b64_decode(payload.encode()))
    value["g"] += 1
    forged = signing.b64_encode(json.dumps(value, separators=(",", ":")).encode()).decode()
    return f"{slug}:{forged}:{rest}"


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
    page = post_directly(tamper(token_for(alpha, group)))

    assert page.status_code == 400
    assert b"not valid" in page.content
    group.refresh_from_db()
    assert group.acknowledged_at is None


def test_another_tenants_key_cannot_sign_for_this_tenant(alpha, beta, group):
    # beta's own valid link, relabelled as alpha's.
    beta_token = token_for(beta, group)
    forged = "alpha" + beta_token[len("beta"):]

    assert post_directly(forged).status_code == 400
    with tenant_context(alpha):
        assert AlertGroup.objects.get(id=group.id).acknowledged_at is None


def test_a_delivered_message_carries_a_link_that_acknowledges_as_its_receiver(
    alpha, httpserver, settings
):
    settings.HERALD_BASE_URL = "http://127.0.0.1"
    httpserver.expect_request("/slack").respond_with_data("ok")
    slack = ReceiverFactory(
        name="team-slack", kind="slack", secrets={"url": httpserver.url_for("/slack")}
    )
    notification = NotificationFactory(receiver=slack)

    notification_deliver(notification_id=notification.id)

    body = httpserver.log[0][0].get_data(as_text=True)
    token = re.search(r"/ack/([^/\"]+)/", body).group(1)
    assert visit(token, method="post").status_code == 200
    group = AlertGroup.objects.get(id=notification.alert_group_id)
    assert group.acknowledged_by == "link:team-slack"
    assert AuditEntry.objects.get(action="acknowledge").actor == "link:team-slack"


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
