"""An alert flapping through ingest: marked, audited, counted, shown in the admin."""

from __future__ import annotations

from prometheus_client import REGISTRY

from alerting.audit.models import AuditEntry
from alerting.flapping import KEPT_CHANGES
from alerting.models import Alert
from alerting.noise_tick import noise_control_tick_run
from receivers.models import Notification
from tests.admin.conftest import _fast_passwords, client_as, users  # noqa: F401 - fixtures
from tests.admin.test_permissions import get
from tests.factories import (
    ReceiverFactory,
    RouteFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import post, public_client


def flip(key, alert, group, times):
    for status in (["firing", "resolved"] * times)[:times]:
        response = post(public_client(), WebhookPayloadFactory(
            groupKey=group, status=status, alerts=[{**alert, "status": status}]), key)
        assert response.status_code == 200


def test_an_alert_that_flips_too_often_is_marked_audited_counted_and_shown(
    alpha, ingest_key, client_as  # noqa: F811
):
    receiver = ReceiverFactory(name="ops")
    RouteFactory(name="all", receivers=[receiver], flap_threshold=3, flap_window=600)
    alert = WebhookAlertFactory(labels={"alertname": "DiskFull", "instance": "db-1"})
    group = WebhookPayloadFactory()["groupKey"]

    flip(ingest_key(alpha), alert, group, 4)

    stored = Alert.objects.get(fingerprint=alert["fingerprint"])
    assert stored.flapping and stored.flapping_since is not None
    # without hold every change was still told
    assert Notification.objects.filter(receiver=receiver).count() == 4
    [entry] = AuditEntry.objects.filter(action="flapping_started")
    assert (entry.actor, entry.object_type, entry.object_id) == ("herald", "alert", str(stored.pk))

    noise_control_tick_run()
    assert REGISTRY.get_sample_value("alertmanager_flapping_alerts", {"tenant": "alpha"}) == 1

    client = client_as("auditor")
    listing = get(client, "/admin/alerting/alert/?flapping__exact=1").content.decode()
    assert "DiskFull" in listing
    page = get(client, f"/admin/alerting/alertgroup/{stored.group_id}/change/").content.decode()
    assert "Flapping" in page or "flapping" in page


def test_with_hold_on_the_changes_after_the_alert_flaps_wait_for_the_summary(alpha, ingest_key):
    receiver = ReceiverFactory(name="ops")
    RouteFactory(name="all", receivers=[receiver], flap_threshold=3, flap_window=600,
                 flap_hold=True)
    alert = WebhookAlertFactory()

    flip(ingest_key(alpha), alert, WebhookPayloadFactory()["groupKey"], 9)

    assert Notification.objects.filter(receiver=receiver).count() == 3
    stored = Alert.objects.get(fingerprint=alert["fingerprint"])
    assert (stored.flap_held, stored.flap_receivers) == (6, [receiver.id])
    # the window is not over: nothing goes yet
    assert noise_control_tick_run() == 0
    assert Notification.objects.filter(receiver=receiver).count() == 3


def test_repeats_are_not_changes_and_an_alert_flipping_all_day_keeps_a_bounded_history(
    alpha, ingest_key
):
    RouteFactory(name="all", receivers=[ReceiverFactory(name="ops")], flap_threshold=100)
    alert = WebhookAlertFactory()
    group = WebhookPayloadFactory()["groupKey"]
    key = ingest_key(alpha)

    flip(key, alert, group, 1)
    flip(key, alert, group, 1)  # Alertmanager repeating the same firing alert
    assert len(Alert.objects.get(fingerprint=alert["fingerprint"]).flap_changes) == 1

    flip(key, alert, group, KEPT_CHANGES + 20)
    stored = Alert.objects.get(fingerprint=alert["fingerprint"])
    assert len(stored.flap_changes) == KEPT_CHANGES
    assert stored.flap_changes == sorted(stored.flap_changes)
    assert stored.flapping  # past the route's threshold of 100
