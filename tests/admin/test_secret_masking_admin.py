"""In the admin: errors shown and exported without secret fragments, and a
credential header typed into the plain headers ends up in the encrypted secrets."""

from __future__ import annotations

import csv
import io
import json

from alerting.audit.models import AuditEntry
from receivers.delivery import notification_deliver
from receivers.forms import receiver_form_class
from receivers.models import Notification, Receiver
from receivers.redaction import MASK
from tests.admin.test_permissions import get, post
from tests.factories import NotificationFactory, ReceiverFactory
from tests.receivers.test_secret_masking import (
    API_KEY,
    SLACK_PATH,
    assert_no_fragment,
    echo_everything,
)

ADD_WEBHOOK = "/admin/receivers/receiver/add/?kind=webhook"


def webhook_form(url: str = "", **fields) -> dict[str, object]:
    return {"name": "ops-hook", "enabled": "on", "max_attempts": 3, "language": "en",
            "url": url, "content_type": "application/json",
            "signature_header": "X-Herald-Signature", **fields}


def test_the_csv_export_holds_no_fragment_even_of_rows_stored_before_masking(
    alpha, users, client_as, httpserver
):
    httpserver.expect_request(SLACK_PATH).respond_with_data(
        echo_everything(SLACK_PATH), status=400
    )
    receiver = ReceiverFactory(kind="slack", secrets={"url": httpserver.url_for(SLACK_PATH)})
    notification_deliver(notification_id=NotificationFactory(receiver=receiver).id)
    # A row from before the stricter rule, holding a raw fragment.
    NotificationFactory(receiver=receiver, state="failed",
                        last_error=f"HTTP 400: {SLACK_PATH[-22:]}")

    notifications = get(client_as("auditor"), "/admin/receivers/notification/export.csv")
    audit = get(client_as("auditor"), "/admin/audit/auditentry/export.csv")

    exported = b"".join(notifications.streaming_content).decode()
    errors = [row["last_error"] for row in csv.DictReader(io.StringIO(exported))]
    assert len(errors) == 2 and all(MASK in error for error in errors)
    assert_no_fragment(exported, SLACK_PATH)
    assert_no_fragment(b"".join(audit.streaming_content).decode(), SLACK_PATH)


def test_the_admin_test_send_message_shows_the_error_without_the_secret(
    alpha, users, client_as, httpserver
):
    httpserver.expect_request(SLACK_PATH).respond_with_data(
        f"invalid_token {SLACK_PATH[10:]}", status=403
    )
    receiver = ReceiverFactory(
        name="sre-slack", kind="slack", secrets={"url": httpserver.url_for(SLACK_PATH)}
    )
    client = client_as("editor")

    response = post(client, "/admin/receivers/receiver/",
                    {"action": "send_test_notification", "_selected_action": [receiver.pk]})
    page = get(client, response["Location"]).content.decode()

    assert "sre-slack: test notification" in page.lower() and "invalid_token " + MASK in page
    assert_no_fragment(page, SLACK_PATH)


def test_an_api_key_typed_into_the_plain_headers_is_stored_encrypted_and_still_sent(
    alpha, users, client_as, httpserver
):
    httpserver.expect_request("/hook", headers={"X-Api-Key": API_KEY, "X-Team": "sre"}) \
        .respond_with_data("ok")
    client = client_as("editor")

    response = post(client, ADD_WEBHOOK, webhook_form(
        httpserver.url_for("/hook"),
        headers=json.dumps({"X-Api-Key": API_KEY, "X-Team": "sre"}),
    ))

    assert response.status_code == 302, response.content.decode()[:3000]
    told = get(client, response["Location"]).content.decode()
    assert "X-Api-Key: moved from headers to the encrypted secret headers" in told
    receiver = Receiver.objects.get(name="ops-hook")
    assert receiver.config == {"headers": {"X-Team": "sre"}}
    assert receiver.secrets["header:X-Api-Key"] == API_KEY
    page = get(client, f"/admin/receivers/receiver/{receiver.pk}/change/").content.decode()
    assert f"X-Api-Key {MASK}{API_KEY[-4:]}" in page
    assert_no_fragment(page, API_KEY)
    assert_no_fragment(json.dumps(list(AuditEntry.objects.values("before", "after"))), API_KEY)
    notification = NotificationFactory(receiver=receiver)
    notification_deliver(notification_id=notification.id)
    notification.refresh_from_db()
    assert notification.state == "delivered", notification.last_error


def test_the_form_says_which_headers_it_moved_and_why(alpha):
    form_class = receiver_form_class("webhook")
    form = form_class(data=webhook_form(
        "https://hooks.example.com/in",
        headers=json.dumps({"Authorization": "Bearer abc", "x-auth-token": "t", "X-Env": "p"}),
    ))

    assert form.is_valid(), form.errors
    assert form.settings_config == {"headers": {"X-Env": "p"}}
    assert form.settings_secrets["header:Authorization"] == "Bearer abc"
    assert form.settings_secrets["header:x-auth-token"] == "t"
    (note,) = form.notes
    assert note.startswith("Authorization, x-auth-token: moved from headers to the encrypted")
    assert "looks like a credential" in note
    assert "moved to the encrypted secret headers when saved" in form.fields["headers"].help_text


def test_a_plain_credential_header_saved_before_keeps_working_and_moves_on_the_next_edit(
    alpha, users, client_as, httpserver
):
    httpserver.expect_request("/hook", headers={"Authorization": "Bearer legacy-t0ken"}) \
        .respond_with_data("ok")
    receiver = ReceiverFactory(
        name="ops-hook", secrets={"url": httpserver.url_for("/hook")},
        config={"headers": {"Authorization": "Bearer legacy-t0ken"}},
    )
    notification_deliver(notification_id=NotificationFactory(receiver=receiver).id)
    assert Notification.objects.get().state == "delivered"

    response = post(client_as("editor"), f"/admin/receivers/receiver/{receiver.pk}/change/",
                    webhook_form(headers=json.dumps(receiver.config["headers"])))

    assert response.status_code == 302, response.content.decode()[:3000]
    receiver.refresh_from_db()
    assert receiver.config == {}
    assert receiver.secrets == {"url": httpserver.url_for("/hook"),
                                "header:Authorization": "Bearer legacy-t0ken"}


def test_secret_headers_are_write_only_replaced_by_name_and_removed_by_an_empty_value(
    alpha, users, client_as
):
    receiver = ReceiverFactory(
        name="ops-hook", secrets={"url": "https://hooks.example.com/in",
                                  "header:X-Api-Key": API_KEY, "header:X-Other-Key": "other-value"},
    )
    url = f"/admin/receivers/receiver/{receiver.pk}/change/"
    client = client_as("editor")

    page = get(client, url).content.decode()
    assert "other-value" not in page and API_KEY not in page
    post(client, url, webhook_form(secret_headers=json.dumps({"x-api-key": "n3w-value-1234",
                                                              "X-Other-Key": ""})))

    receiver.refresh_from_db()
    assert receiver.secrets == {"url": "https://hooks.example.com/in",
                                "header:x-api-key": "n3w-value-1234"}
    post(client, url, webhook_form(clear_secret_headers="on"))
    receiver.refresh_from_db()
    assert receiver.secrets == {"url": "https://hooks.example.com/in"}
