"""ServiceNow in the admin: its settings (secrets encrypted, never shown), a mistake named,
and the test notification opening a ticket on the stand-in instance."""

from __future__ import annotations

from receivers.models import Notification, NotificationState, Receiver
from tests.admin.test_permissions import get, post
from tests.receivers.tickets.servicenow_standin import PASSWORD, USER, StandInServiceNow

ADD = "/admin/receivers/receiver/add/?kind=servicenow"
SECRET = "sync-back-secret-0123456789"


def form_data(**changes) -> dict:
    return {
        "name": "snow", "enabled": "on", "max_attempts": 3, "language": "en",
        "instance_url": "https://acme.service-now.com", "username": USER, "password": PASSWORD,
        "webhook_secret": SECRET, "close_code": "Solution provided",
        "reopen_window_minutes": 1440, **changes,
    }


def test_an_admin_adds_a_servicenow_receiver_with_its_secrets_encrypted(alpha, client_as):
    client = client_as("admin")
    form = get(client, ADD).content.decode()
    for setting in ("instance_url", "username", "password", "oauth_token", "assignment_group",
                    "caller", "category", "close_code", "reopen_window_minutes",
                    "webhook_secret"):
        assert f'name="{setting}"' in form, setting

    response = post(client, ADD, form_data(assignment_group="Database"))

    assert response.status_code == 302, response.content.decode()[:3000]
    receiver = Receiver.objects.get(name="snow")
    assert receiver.config["assignment_group"] == "Database"
    assert receiver.secrets == {"password": PASSWORD, "webhook_secret": SECRET}
    page = get(client, f"/admin/receivers/receiver/{receiver.pk}/change/").content.decode()
    assert PASSWORD not in page and SECRET not in page


def test_a_short_webhook_secret_is_refused_naming_the_setting(alpha, client_as):
    response = post(client_as("admin"), ADD, form_data(webhook_secret="short"))

    assert response.status_code == 200
    assert "must be 16 to 200 characters" in response.content.decode()
    assert not Receiver.objects.filter(name="snow").exists()


def test_the_test_notification_opens_a_ticket(alpha, client_as, httpserver):
    servicenow = StandInServiceNow(httpserver)
    receiver = Receiver.objects.create(name="snow", kind="servicenow", config=servicenow.config(),
                                       secrets={"password": PASSWORD})

    response = post(client_as("admin"), "/admin/receivers/receiver/", {
        "action": "send_test_notification", "_selected_action": [receiver.pk],
    })

    assert response.status_code == 302
    [incident] = servicenow.incidents.values()
    notification = Notification.objects.get(receiver=receiver)
    assert notification.state == NotificationState.DELIVERED
    assert notification.vendor_ref == {"sys_id": incident["sys_id"], "number": "INC0000001"}
