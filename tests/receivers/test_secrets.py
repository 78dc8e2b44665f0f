"""Secrets: ciphertext at rest, key rotation, masked and write-only, never in logs or errors."""

from __future__ import annotations

import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from receivers.delivery import notification_deliver
from receivers.models import Notification, Receiver
from receivers.redaction import secret_mask, secrets_scrub
from receivers.services import receiver_create
from receivers.transports import SettingsError, channel_kinds, settings_class
from tests.factories import NotificationFactory

TELEGRAM_TOKEN = "987654321:AAF-s3cr3t-t0ken-do-not-leak-xyz"
SLACK_PATH = "/services/T0AAA/B0BBB/s3cr3tSlackT0ken"


def raw_secrets(receiver: Receiver) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets::text FROM receivers_receiver WHERE id = %s", [receiver.id])
        return cursor.fetchone()[0]


def test_the_database_column_holds_only_ciphertext(alpha):
    receiver = receiver_create(
        name="tg",
        kind="telegram",
        config={"chat_id": 42},
        secrets={"bot_token": TELEGRAM_TOKEN},
    )

    stored = raw_secrets(receiver)
    assert TELEGRAM_TOKEN not in stored and "987654321" not in stored
    assert '"bot_token": "gAAAAA' in stored  # a Fernet token
    assert Receiver.objects.get().secrets == {"bot_token": TELEGRAM_TOKEN}


def test_rotation_re_encrypts_every_tenants_receivers_and_keeps_them_readable(
    tenants, encryption_keys, capsys
):
    encryption_keys(["old-key"])
    before = {}
    for slug in ("alpha", "beta"):
        with tenant_context(tenants[slug]):
            receiver = receiver_create(
                name=f"hook-{slug}", kind="webhook", secrets={"url": f"https://{slug}.example/h"}
            )
            before[slug] = (receiver.id, raw_secrets(receiver), receiver.updated_at)

    encryption_keys(["new-key", "old-key"])
    call_command("rotate_secrets")

    output = capsys.readouterr().out
    assert "alpha: 1 re-encrypted" in output and "beta: 1 re-encrypted" in output
    assert "2 receivers re-encrypted in 2 tenants, 0 unreadable." in output
    encryption_keys(["new-key"])  # the old key is gone: only rotated rows can be read
    for slug in ("alpha", "beta"):
        with tenant_context(tenants[slug]):
            receiver = Receiver.objects.get(id=before[slug][0])
            assert receiver.secrets == {"url": f"https://{slug}.example/h"}
            assert raw_secrets(receiver) != before[slug][1]
            assert receiver.updated_at == before[slug][2]


def test_rotation_reports_and_leaves_alone_what_no_key_can_read(alpha, encryption_keys, capsys):
    encryption_keys(["lost-key"])
    receiver = receiver_create(name="orphan", kind="webhook", secrets={"url": "https://x.example"})
    stored = raw_secrets(receiver)
    encryption_keys(["new-key"])

    with pytest.raises(CommandError, match="alpha/orphan"):
        call_command("rotate_secrets")

    assert "1 unreadable" in capsys.readouterr().out
    assert raw_secrets(receiver) == stored  # still decryptable once the key is back


def test_masks_show_only_the_last_four_characters():
    assert secret_mask("https://hooks.slack.com/services/T/B/abcd3f9a") == "••••3f9a"
    assert secret_mask("short") == "••••"


def test_scrubbing_masks_any_secret_a_vendor_echoes():
    text = f"HTTP 400: invalid token {TELEGRAM_TOKEN} for bot"
    assert (
        secrets_scrub(text, {"bot_token": TELEGRAM_TOKEN}) == "HTTP 400: invalid token •••• for bot"
    )


def test_settings_errors_never_repeat_a_secret():
    with pytest.raises(SettingsError) as failure:
        settings_class("slack").parse(config={}, secrets={"url": "ftp://hooks/s3cr3tSlackT0ken"})
    assert "url: must be an http:// or https:// URL" in str(failure.value)
    assert "s3cr3t" not in str(failure.value)


@pytest.mark.parametrize(
    ("kind", "config", "secrets", "path"),
    [
        (
            "telegram",
            {"chat_id": 1},
            {"bot_token": TELEGRAM_TOKEN},
            f"/bot{TELEGRAM_TOKEN}/sendMessage",
        ),
        ("slack", {}, {}, SLACK_PATH),
    ],
)
def test_secrets_stay_out_of_logs_errors_and_records(
    alpha, httpserver, caplog, kind, config, secrets, path
):
    # The stand-in vendor echoes the whole URL back, as some proxies do.
    httpserver.expect_request(path).respond_with_data(
        f"upstream error for {httpserver.url_for(path)}", status=500
    )
    if kind == "telegram":
        config = {**config, "api_url": httpserver.url_for("/")}
    else:
        secrets = {"url": httpserver.url_for(path)}
    receiver = Receiver.objects.create(name=kind, kind=kind, config=config, secrets=secrets)
    notification = NotificationFactory(receiver=receiver)

    with caplog.at_level(logging.DEBUG):
        notification_deliver(notification_id=notification.id)

    secret = TELEGRAM_TOKEN if kind == "telegram" else "s3cr3tSlackT0ken"
    assert len(httpserver.log) == 1
    # Herald's own logs; the stand-in vendor (werkzeug) may log its requests.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")
    assert "failed (will retry)" in ours  # the failure was logged ...
    assert "[path redacted]" in ours  # ... urllib3's request line too ...
    assert secret not in ours  # ... without the secret, even at DEBUG
    notification = Notification.objects.get()
    assert "500" in notification.last_error
    assert secret not in notification.last_error
    attempt = notification.delivery_attempts.get()
    assert secret not in attempt.error
    assert secret not in str(notification.alerts)


@pytest.fixture
def admin_client(alpha, django_user_model) -> Client:
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user)
    return client


def admin_request(client: Client, method: str, url: str, data=None):
    tenant = connection.tenant
    try:
        return getattr(client, method)(url, data or {})
    finally:
        connection.set_tenant(tenant)


ADD = "/admin/receivers/receiver/add/"


def test_adding_a_receiver_starts_by_choosing_its_kind(admin_client):
    response = admin_request(admin_client, "get", ADD)
    assert response.status_code == 200
    for kind in channel_kinds():
        assert f"?kind={kind}" in response.content.decode()


def test_the_add_form_shows_only_the_kinds_settings_and_saves_secrets_encrypted(admin_client):
    page = admin_request(admin_client, "get", ADD + "?kind=telegram").content.decode()
    assert 'name="bot_token"' in page and 'name="chat_id"' in page
    assert 'name="url"' not in page and 'name="routing_key"' not in page

    response = admin_request(
        admin_client,
        "post",
        ADD + "?kind=telegram",
        {
            "name": "tg",
            "enabled": "on",
            "max_attempts": 6,
            "bot_token": TELEGRAM_TOKEN,
            "chat_id": "-1001",
            "language": "de",
            "api_url": "https://api.telegram.org",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    receiver = Receiver.objects.get(name="tg")
    assert receiver.kind == "telegram"
    assert receiver.config == {"chat_id": "-1001", "language": "de"}
    assert receiver.secrets == {"bot_token": TELEGRAM_TOKEN}
    assert TELEGRAM_TOKEN not in raw_secrets(receiver)


def test_saved_secrets_are_shown_masked_never_in_clear_and_kept_when_left_empty(admin_client):
    receiver = receiver_create(
        name="hook",
        kind="webhook",
        secrets={"url": "https://hooks.example.com/T/s3cr3t9f3a", "signing_secret": "whsec_abcdef"},
    )
    url = f"/admin/receivers/receiver/{receiver.id}/change/"

    page = admin_request(admin_client, "get", url).content.decode()
    assert "s3cr3t9f3a" not in page and "whsec_abcdef" not in page
    assert "••••9f3a" in page
    assert 'name="clear_signing_secret"' in page

    response = admin_request(
        admin_client,
        "post",
        url,
        {
            "name": "hook",
            "enabled": "on",
            "max_attempts": 4,
            "url": "",
            "signing_secret": "",
            "clear_signing_secret": "on",
            "language": "en",
            "headers": "{}",
            "content_type": "application/json",
            "signature_header": "X-Herald-Signature",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    receiver.refresh_from_db()
    assert receiver.secrets == {"url": "https://hooks.example.com/T/s3cr3t9f3a"}
    assert receiver.max_attempts == 4


def test_the_admin_form_reports_bad_settings_on_their_field(admin_client):
    response = admin_request(
        admin_client,
        "post",
        ADD + "?kind=slack",
        {"name": "s", "max_attempts": 6, "url": "not a url", "language": "en"},
    )
    assert response.status_code == 200
    assert "must be an http:// or https:// URL" in response.content.decode()
    assert not Receiver.objects.exists()


def test_the_template_admin_refuses_sandbox_escapes_with_the_line(admin_client):
    response = admin_request(
        admin_client,
        "post",
        "/admin/receivers/messagetemplate/add/",
        {"channel": "slack", "language": "en", "part": "title", "source": "ok\n{{ ''.__class__ }}"},
    )
    assert response.status_code == 200
    assert "line 2: not allowed in templates" in response.content.decode()
