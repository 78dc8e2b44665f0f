"""Roles per tenant, enforced on the server for every admin page and action."""

from __future__ import annotations

import pytest
from django.db import connection

from alerting.audit.models import AuditEntry
from alerting.audit.services import audit_record
from alerting.models import AlertGroup
from escalation.models import BusinessHoursWindow, EscalationPolicy
from receivers.models import MessageTemplate, Notification, NotificationState, Receiver
from tenants.models import IngestKey, TenantMembership
from tests.factories import (
    AlertGroupFactory,
    EscalationPolicyFactory,
    NotificationFactory,
    ReceiverFactory,
    RouteFactory,
    SilenceFactory,
)
from tests.ingest import keep_schema

SECRET = "https://hooks.example.com/services/T0/B0/s3cr3tValue9f3a"


@pytest.fixture
def objects(alpha, users):
    receiver = ReceiverFactory(name="pager", secrets={"url": SECRET})
    group = AlertGroupFactory(common_labels={"alertname": "DiskFull", "severity": "critical"})
    notification = NotificationFactory(
        receiver=receiver, alert_group=group, state=NotificationState.FAILED
    )
    template = MessageTemplate.objects.create(
        channel="slack", part="title", source="{{ alertname }}"
    )
    entry = audit_record(actor="x", source="system", action="ping")
    membership = TenantMembership.objects.get(user=users["auditor"])
    from tenants.services import ingest_key_create

    key, _ = ingest_key_create(tenant=alpha, name="am")
    return {
        "receivers/receiver": receiver,
        "receivers/messagetemplate": template,
        "receivers/notification": notification,
        "alerting/alertgroup": group,
        "alerting/alert": None,
        "alerting/route": RouteFactory(receivers=[receiver]),
        "alerting/silence": SilenceFactory(),
        "escalation/escalationpolicy": EscalationPolicyFactory(levels=[(0, [receiver])]),
        "escalation/businesshourswindow": BusinessHoursWindow.objects.create(
            weekday=0, start="09:00", end="17:00"
        ),
        "escalation/escalation": None,
        "audit/auditentry": entry,
        "tenants/tenantmembership": membership,
        "tenants/tenantingestkey": key,
    }


def get(client, url):
    with keep_schema():
        return client.get(url)


def post(client, url, data):
    with keep_schema():
        return client.post(url, data)


CONFIG = [
    "receivers/receiver",
    "receivers/messagetemplate",
    "alerting/route",
    "alerting/silence",
    "escalation/escalationpolicy",
    "escalation/businesshourswindow",
]
READ_ONLY = [
    "receivers/notification",
    "alerting/alertgroup",
    "alerting/alert",
    "escalation/escalation",
    "audit/auditentry",
]
ADMIN_ONLY = ["tenants/tenantmembership", "tenants/tenantingestkey"]


# role -> (may view config & history, may edit config, may see members/keys)
RIGHTS = {
    "admin": (True, True, True),
    "operator": (True, True, True),
    "editor": (True, True, False),
    "auditor": (True, False, False),
}


@pytest.mark.parametrize("role", list(RIGHTS))
def test_change_lists_and_views_by_role(client_as, objects, role):
    client = client_as(role)
    view, edit, manage = RIGHTS[role]
    for model in CONFIG + READ_ONLY + ADMIN_ONLY:
        allowed = manage if model in ADMIN_ONLY else view
        response = get(client, f"/admin/{model}/")
        assert response.status_code == (200 if allowed else 403), (role, model)
        obj = objects[model]
        if obj is not None:
            response = get(client, f"/admin/{model}/{obj.pk}/change/")
            assert response.status_code == (200 if allowed else 403), (role, model)
    for model in CONFIG:
        expected = 200 if edit else 403
        add = get(client, f"/admin/{model}/add/" + ("?kind=slack" if "receiver" in model else ""))
        assert add.status_code == expected, (role, model)
        delete = get(client, f"/admin/{model}/{objects[model].pk}/delete/")
        assert delete.status_code == expected, (role, model)
    for model in READ_ONLY:
        assert get(client, f"/admin/{model}/add/").status_code == 403, (role, model)
    assert get(client, "/admin/overview/").status_code == 200
    assert get(client, "/admin/").status_code == 200


@pytest.mark.parametrize("who", [None, "outsider"])
def test_strangers_are_sent_to_the_login(client_as, objects, who):
    client = client_as(who)
    for url in [
        "/admin/",
        "/admin/overview/",
        "/admin/receivers/receiver/",
        f"/admin/receivers/receiver/{objects['receivers/receiver'].pk}/change/",
        "/admin/audit/auditentry/",
        "/admin/receivers/notification/export.csv",
    ]:
        response = get(client, url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


def test_auditor_pages_never_show_a_secret_or_its_mask(client_as, objects):
    client = client_as("auditor")
    receiver = objects["receivers/receiver"]
    for url in ["/admin/receivers/receiver/", f"/admin/receivers/receiver/{receiver.pk}/change/"]:
        page = get(client, url).content.decode()
        assert SECRET not in page and "s3cr3t" not in page and "9f3a" not in page
        assert "url: set" in page
        assert 'name="url"' not in page and 'name="_save"' not in page
        assert "Delete" not in page and "Add receiver" not in page


def test_auditor_crafted_posts_are_refused(client_as, objects):
    client = client_as("auditor")
    receiver = objects["receivers/receiver"]
    change = f"/admin/receivers/receiver/{receiver.pk}/change/"
    response = post(
        client, change, {"name": "hacked", "max_attempts": 1, "url": "https://evil.example/"}
    )
    assert response.status_code == 403
    assert (
        post(
            client, f"/admin/receivers/receiver/{receiver.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert (
        post(
            client,
            "/admin/receivers/receiver/add/?kind=slack",
            {"name": "new", "max_attempts": 1, "url": "https://evil.example/"},
        ).status_code
        == 403
    )
    assert (
        post(
            client, "/admin/alerting/silence/add/", {"matchers": 'a="b"', "kind": "once"}
        ).status_code
        == 403
    )
    assert (
        post(
            client,
            "/admin/receivers/messagetemplate/live-preview/",
            {"channel": "slack", "part": "title", "source": "x"},
        ).status_code
        == 403
    )
    assert (
        post(
            client,
            f"/admin/audit/auditentry/{objects['audit/auditentry'].pk}/delete/",
            {"post": "yes"},
        ).status_code
        == 403
    )
    # Actions an auditor has no right to are not run, whatever the POST says.
    group = objects["alerting/alertgroup"]
    notification = objects["receivers/notification"]
    before = Notification.objects.count()
    for url, action, pk in [
        ("/admin/alerting/alertgroup/", "acknowledge", group.pk),
        ("/admin/alerting/alertgroup/", "resolve", group.pk),
        ("/admin/receivers/notification/", "retry_now", notification.pk),
        ("/admin/receivers/receiver/", "send_test_notification", receiver.pk),
        ("/admin/receivers/receiver/", "delete_selected", receiver.pk),
    ]:
        post(client, url, {"action": action, "_selected_action": [pk], "post": "yes"})
    receiver.refresh_from_db()
    group.refresh_from_db()
    assert receiver.name == "pager" and receiver.secrets == {"url": SECRET}
    assert group.acknowledged_at is None and group.status == "firing"
    assert Notification.objects.count() == before
    assert not AuditEntry.objects.exclude(action="ping").exists()


def test_editor_cannot_touch_members_or_keys(client_as, objects, users):
    client = client_as("editor")
    membership = objects["tenants/tenantmembership"]
    assert (
        post(
            client, f"/admin/tenants/tenantmembership/{membership.pk}/change/", {"role": "admin"}
        ).status_code
        == 403
    )
    assert (
        post(
            client,
            "/admin/tenants/tenantmembership/add/",
            {"username": "editor-alpha", "role": "admin"},
        ).status_code
        == 403
    )
    post(
        client,
        "/admin/tenants/tenantingestkey/",
        {"action": "revoke", "_selected_action": [objects["tenants/tenantingestkey"].pk]},
    )
    membership.refresh_from_db()
    assert membership.role == "auditor"
    assert IngestKey.objects.get(pk=objects["tenants/tenantingestkey"].pk).revoked_at is None


def test_editor_acts_and_every_act_is_audited(client_as, objects):
    client = client_as("editor")
    group = objects["alerting/alertgroup"]
    post(
        client,
        "/admin/alerting/alertgroup/",
        {"action": "acknowledge", "_selected_action": [group.pk]},
    )
    group.refresh_from_db()
    assert group.acknowledged_by == "editor-alpha"
    notification = objects["receivers/notification"]
    post(
        client,
        "/admin/receivers/notification/",
        {"action": "retry_now", "_selected_action": [notification.pk]},
    )
    assert Notification.objects.filter(receiver=notification.receiver).count() == 2
    post(
        client, "/admin/alerting/alertgroup/", {"action": "resolve", "_selected_action": [group.pk]}
    )
    group.refresh_from_db()
    assert group.status == "resolved"
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "actor", "object_id"))
    assert ("acknowledge", "editor-alpha", str(group.pk)) in actions
    assert ("retry", "editor-alpha", str(notification.pk)) in actions
    assert ("resolve", "editor-alpha", str(group.pk)) in actions


def test_admin_manages_members_and_keys(client_as, objects, users):
    client = client_as("admin")
    response = post(
        client,
        "/admin/tenants/tenantmembership/add/",
        {"username": "editor-beta", "role": "auditor"},
    )
    assert response.status_code == 302
    assert TenantMembership.objects.filter(
        user=users["outsider"], tenant__slug="alpha", role="auditor"
    ).exists()
    response = post(client, "/admin/tenants/tenantingestkey/add/", {"name": "new-am"})
    assert response.status_code == 302
    assert IngestKey.objects.filter(name="new-am", tenant__slug="alpha").exists()
    key = objects["tenants/tenantingestkey"]
    post(
        client,
        "/admin/tenants/tenantingestkey/",
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    assert IngestKey.objects.get(pk=key.pk).revoked_at is not None
    actions = set(AuditEntry.objects.values_list("action", "object_type"))
    assert {
        ("create", "tenants.tenantmembership"),
        ("create", "tenants.tenantingestkey"),
        ("revoke", "tenants.tenantingestkey"),
    } <= actions
    assert all(
        "key_hash" not in str(e.after) or e.after["key_hash"] == "[redacted]"
        for e in AuditEntry.objects.exclude(after=None)
    )


def test_members_list_shows_only_this_tenants_members(client_as, objects):
    page = get(client_as("admin"), "/admin/tenants/tenantmembership/").content.decode()
    assert "auditor-alpha" in page and "editor-beta" not in page


def test_cross_tenant_urls_are_refused(client_as, objects, alpha, beta):
    """An alpha editor's session on beta's host gets nothing; beta's ids on alpha's host neither."""
    connection.set_tenant(beta)
    beta_receiver = ReceiverFactory(name="beta-only", secrets={"url": "https://beta.example/x"})
    connection.set_tenant(alpha)
    client = client_as("editor")  # logged in, member of alpha only
    client.defaults["HTTP_HOST"] = "beta.localhost"
    for url in [
        "/admin/",
        f"/admin/receivers/receiver/{beta_receiver.pk}/change/",
        "/admin/receivers/receiver/",
    ]:
        response = get(client, url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert (
        post(
            client, f"/admin/receivers/receiver/{beta_receiver.pk}/delete/", {"post": "yes"}
        ).status_code
        == 302
    )
    connection.set_tenant(beta)
    assert Receiver.objects.filter(pk=beta_receiver.pk).exists()


def test_login_needs_membership_and_is_audited(alpha, users):
    from django.test import Client

    from tests.admin.conftest import PASSWORD

    client = Client(HTTP_HOST="alpha.localhost")
    response = post(
        client,
        "/admin/login/",
        {"username": "editor-beta", "password": PASSWORD, "next": "/admin/"},
    )
    assert (
        response.status_code == 200 and "not a member of this tenant" in response.content.decode()
    )
    response = post(
        client,
        "/admin/login/",
        {"username": "auditor-alpha", "password": "wrong", "next": "/admin/"},
    )
    assert response.status_code == 200
    response = post(
        client,
        "/admin/login/",
        {"username": "auditor-alpha", "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    entries = list(AuditEntry.objects.order_by("id").values_list("action", "actor", "ip"))
    assert entries == [
        ("login_failed", "editor-beta", "127.0.0.1"),
        ("login_failed", "auditor-alpha", "127.0.0.1"),
        ("login", "auditor-alpha", "127.0.0.1"),
    ]


def test_csv_export_follows_the_filters(client_as, objects):
    receiver = objects["receivers/receiver"]
    NotificationFactory(
        receiver=receiver,
        state=NotificationState.DELIVERED,
        alert_group=AlertGroupFactory(common_labels={"alertname": "CpuHigh"}),
    )
    response = get(client_as("auditor"), "/admin/receivers/notification/export.csv?state=delivered")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("id,created_at,alertname")
    assert len(lines) == 2 and "CpuHigh" in lines[1] and "DiskFull" not in body
    audit_csv = get(client_as("auditor"), "/admin/audit/auditentry/export.csv")
    assert b"ping" in b"".join(audit_csv.streaming_content)


def test_escalation_policy_page_has_ordered_levels_and_time_zone(client_as, objects):
    policy = objects["escalation/escalationpolicy"]
    page = get(client_as("editor"), f"/admin/escalation/escalationpolicy/{policy.pk}/change/")
    text = page.content.decode()
    assert "levels-0-delay_minutes" in text and "UTC" in text


def test_alert_group_detail_lists_notifications_and_attempts(client_as, objects):
    group = objects["alerting/alertgroup"]
    notification = objects["receivers/notification"]
    notification.delivery_attempts.create(
        number=1,
        started_at=notification.created_at,
        outcome="failed",
        http_status=500,
        latency_ms=12,
        error="upstream said no",
    )
    page = get(client_as("auditor"), f"/admin/alerting/alertgroup/{group.pk}/change/")
    text = page.content.decode()
    assert "upstream said no" in text and "pager" in text
    listing = get(client_as("auditor"), "/admin/alerting/alertgroup/?severity=critical").content
    assert b"DiskFull" in listing
    assert AlertGroup.objects.count() >= 1 and EscalationPolicy.objects.exists()
