"""The admin pages that do more than list: test send, live preview, overview."""

from __future__ import annotations

from alerting.audit.models import AuditEntry
from receivers.models import Notification
from tests.admin.test_permissions import get, post
from tests.factories import AlertGroupFactory, NotificationFactory, ReceiverFactory

PREVIEW = "/admin/receivers/messagetemplate/live-preview/"


def test_send_test_notification_shows_delivered(alpha, client_as, httpserver):
    httpserver.expect_request("/hook/s3cr3t", method="POST").respond_with_data("ok")
    receiver = ReceiverFactory(
        name="sre-slack", kind="slack", secrets={"url": httpserver.url_for("/hook/s3cr3t")}
    )
    client = client_as("editor")
    response = post(
        client,
        "/admin/receivers/receiver/",
        {"action": "send_test_notification", "_selected_action": [receiver.pk]},
    )
    page = get(client, response["Location"]).content.decode().lower()
    assert "sre-slack: test notification" in page and "delivered</a> (http 200)" in page
    assert len(httpserver.log) == 1
    notification = Notification.objects.get(receiver=receiver)
    assert notification.state == "delivered"
    assert set(AuditEntry.objects.values_list("action", flat=True)) == {
        "test_send",
        "notification_delivered",
    }


def test_send_test_notification_shows_the_vendors_error(alpha, client_as, httpserver):
    httpserver.expect_request("/hook").respond_with_data("invalid_token", status=403)
    receiver = ReceiverFactory(
        name="bad", kind="slack", secrets={"url": httpserver.url_for("/hook")}
    )
    client = client_as("editor")
    response = post(
        client,
        "/admin/receivers/receiver/",
        {"action": "send_test_notification", "_selected_action": [receiver.pk]},
    )
    page = get(client, response["Location"]).content.decode().lower()
    assert "bad: test notification" in page and "failed</a>" in page and "403" in page


def test_live_preview_renders_a_sample_and_names_the_line_of_an_error(alpha, client_as):
    client = client_as("editor")
    ok = post(
        client,
        PREVIEW,
        {"channel": "slack", "language": "en", "part": "title", "source": "{{ alertname }}!"},
    ).json()
    assert ok["error"] == "" and ok["rendered"]["firing"] == "HighLatency!"
    assert set(ok["rendered"]) == {"firing", "resolved"}
    bad = post(
        client,
        PREVIEW,
        {"channel": "slack", "part": "title", "source": "ok\n{{ alertname }\n"},
    ).json()
    assert bad["line"] == 2 and bad["error"].startswith("line 2:")
    sandboxed = post(
        client, PREVIEW, {"channel": "slack", "part": "title", "source": "{{ ''.__class__ }}"}
    ).json()
    assert "not allowed" in sandboxed["error"] or "unsafe" in sandboxed["error"]


def test_live_preview_with_a_recent_real_alert(alpha, client_as):
    group = AlertGroupFactory(common_labels={"alertname": "DiskFull"})
    notification = NotificationFactory(alert_group=group, channel="slack")
    result = post(
        client_as("editor"),
        PREVIEW,
        {
            "channel": "slack",
            "part": "title",
            "source": "{{ alertname }} on {{ tenant.slug }}",
            "notification": notification.pk,
        },
    ).json()
    assert result["rendered"] == {"firing": "DiskFull on alpha"}


def test_template_editor_page_has_the_preview_for_editors_only(alpha, client_as):
    assert (
        b'id="live-preview"'
        in get(client_as("editor"), "/admin/receivers/messagetemplate/add/").content
    )
    from receivers.models import MessageTemplate

    template = MessageTemplate.objects.create(channel="slack", part="title", source="x")
    page = get(client_as("auditor"), f"/admin/receivers/messagetemplate/{template.pk}/change/")
    assert page.status_code == 200 and b'id="live-preview"' not in page.content


def test_overview_counts_the_last_day(alpha, client_as):
    group = AlertGroupFactory(common_labels={"alertname": "DiskFull"})
    NotificationFactory.create_batch(3, alert_group=group, channel="slack", state="delivered")
    NotificationFactory(alert_group=group, channel="slack", state="failed")
    page = get(client_as("auditor"), "/admin/overview/").content.decode()
    assert "<svg" in page and "4 notifications" in page
    assert "<td>DiskFull</td><td>4</td>" in page
    assert "75.0 %" in page


def test_alert_lists_filter_by_status_severity_time_and_label(alpha, client_as):
    from tests.factories import AlertGroupFactory

    AlertGroupFactory(common_labels={"alertname": "DiskFull", "severity": "critical", "team": "db"})
    AlertGroupFactory(common_labels={"alertname": "CpuHigh", "severity": "warning", "team": "web"})
    client = client_as("auditor")
    by_label = get(client, "/admin/alerting/alertgroup/?q=team%3Ddb").content.decode()
    assert "DiskFull" in by_label and "CpuHigh" not in by_label
    by_severity = get(client, "/admin/alerting/alertgroup/?severity=warning").content.decode()
    assert "CpuHigh" in by_severity and "DiskFull" not in by_severity
    recent = get(client, "/admin/alerting/alertgroup/?period=1h&status__exact=firing")
    assert "DiskFull" in recent.content.decode()
    assert get(client, "/admin/alerting/alert/?period=24h&severity=critical").status_code == 200


def test_operators_add_members_on_the_public_admin(alpha, users):
    from django.test import Client

    from tenants.models import TenantMembership

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(users["operator"])
    url = f"/admin/tenants/tenant/{alpha.pk}/change/"
    page = get(client, url)
    assert page.status_code == 200 and "memberships-TOTAL_FORMS" in page.content.decode()
    assert TenantMembership.objects.filter(tenant=alpha).count() == 3


def test_receiver_list_shows_health_at_a_glance(alpha, client_as):
    from django.utils import timezone

    receiver = ReceiverFactory(name="flaky")
    notification = NotificationFactory(receiver=receiver, state="failed")
    notification.delivery_attempts.create(
        number=1,
        started_at=timezone.now(),
        outcome="failed",
        http_status=502,
        latency_ms=5,
        error="HTTP 502: bad gateway",
    )
    page = get(client_as("auditor"), "/admin/receivers/receiver/").content.decode()
    assert "Circuit" in page and "Failures (1 h)" in page and "Last success" in page
    assert "flaky" in page and "closed" in page
