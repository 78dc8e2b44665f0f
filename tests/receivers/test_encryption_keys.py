"""HERALD_ENCRYPTION_KEYS are Fernet keys: rotation, unreadable secrets, the upgrade."""

from __future__ import annotations

import base64
import importlib
import json

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_context

from alerting import encryption_services
from alerting.encryption import SecretUnreadable
from alerting.encryption_services import encryption_keys_verify
from escalation.links import action_token, action_token_read
from receivers.delivery import notification_deliver
from receivers.models import Notification, NotificationState, Receiver
from receivers.services import receiver_create
from tenants.models import Tenant
from tenants.services import tenant_create
from tests.encryption import fernet_key
from tests.factories import AlertGroupFactory, NotificationFactory, ReceiverFactory

OLD_SECRET_KEY = "django-secret-key-of-the-old-install"
OLD_SALT = "old-herald-encryption-keys-value"


def raw_secrets(receiver: Receiver) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets::text FROM receivers_receiver WHERE id = %s", [receiver.id])
        return cursor.fetchone()[0]


def old_scheme_token(text: str) -> str:
    """What django-fernet-encrypted-fields wrote: a key derived from the secret key and a salt."""
    kdf = PBKDF2HMAC(
        algorithm=hashes.SHA256(), length=32, salt=OLD_SALT.encode(), iterations=100_000
    )
    key = base64.urlsafe_b64encode(kdf.derive(OLD_SECRET_KEY.encode()))
    return Fernet(key).encrypt(text.encode()).decode()


def test_a_key_round_trip_encrypt_rotate_drop_the_old_key_still_read(
    alpha, encryption_keys, settings, capsys
):
    encryption_keys(["key-a"])
    receiver = receiver_create(name="hook", kind="webhook", secrets={"url": "https://a.example/h"})
    group = AlertGroupFactory()
    token = action_token(tenant=alpha, alert_group_id=group.id, incident=1, recipient="ops")

    # B first: B encrypts, A still decrypts.
    settings.HERALD_ENCRYPTION_KEYS = [fernet_key("key-b"), fernet_key("key-a")]
    call_command("rotate_secrets")
    output = capsys.readouterr().out
    assert "link signing keys of" in output and "0 unreadable" in output

    # Drop A: everything was re-encrypted under B, the link signing keys too.
    settings.HERALD_ENCRYPTION_KEYS = [fernet_key("key-b")]
    assert Receiver.objects.get(id=receiver.id).secrets == {"url": "https://a.example/h"}
    assert action_token_read(token).alert_group_id == group.id
    encryption_keys_verify()  # and a process would start


def test_changing_django_secret_key_leaves_every_secret_readable(alpha, settings):
    receiver = receiver_create(name="hook", kind="webhook", secrets={"url": "https://a.example/h"})

    settings.SECRET_KEY = "a-completely-different-secret-key"

    assert Receiver.objects.get(id=receiver.id).secrets == {"url": "https://a.example/h"}
    assert Tenant.objects.get(id=alpha.id).link_signing_key


def test_a_secret_no_key_reads_fails_loudly_at_use_never_as_ciphertext(alpha, encryption_keys):
    encryption_keys(["lost-key"])
    receiver = receiver_create(name="orphan", kind="webhook", secrets={"url": "https://x.example"})
    stored = raw_secrets(receiver)
    encryption_keys(["new-key"])

    loaded = Receiver.objects.get(id=receiver.id)  # the list of receivers still loads
    with pytest.raises(SecretUnreadable, match=r"receivers\.Receiver\.secrets") as failure:
        loaded.secrets  # noqa: B018 - using it is what fails
    assert "gAAAA" not in str(failure.value)
    with pytest.raises(SecretUnreadable), transaction.atomic():
        loaded.save()  # nothing overwrites what it could not read
    assert raw_secrets(receiver) == stored


def test_delivery_reports_unreadable_secrets_and_retries_once_the_key_is_back(
    alpha, encryption_keys, httpserver
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    encryption_keys(["old-key"])
    hook = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})
    notification = NotificationFactory(receiver=hook)
    encryption_keys(["new-key"])  # old-key dropped too early

    notification_deliver(notification_id=notification.id)

    notification = Notification.objects.get(id=notification.id)
    assert notification.state == NotificationState.PENDING
    assert "the receiver's secrets cannot be decrypted" in notification.last_error
    assert len(httpserver.log) == 0


def test_start_up_refuses_when_no_key_reads_the_stored_secrets(alpha, encryption_keys):
    encryption_keys(["lost-key"])
    receiver_create(name="orphan", kind="webhook", secrets={"url": "https://x.example"})
    encryption_keys(["new-key"])

    with pytest.raises(ImproperlyConfigured, match="tenant alpha: receivers' secrets"):
        encryption_keys_verify()
    with pytest.raises(SystemCheckError, match=r"herald\.E103.*tenant alpha"):
        call_command("check", "--database", "default", "--tag", "database")


def test_the_start_reads_the_oldest_and_newest_tenants_and_the_check_reads_them_all(
    alpha, beta, encryption_keys, monkeypatch
):
    """A start costs the same with 10,000 tenants; `check --database` still reads every one."""
    monkeypatch.setattr(encryption_services, "START_SAMPLE_EACH_END", 1)
    with schema_context("public"):
        gamma = tenant_create(slug="gamma", name="Gamma", domain="gamma.example.test")
    encryption_keys(["lost-key"])
    with schema_context("beta"):  # neither the oldest (alpha) nor the newest (gamma)
        receiver_create(name="orphan", kind="webhook", secrets={"url": "https://x.example"})
    encryption_keys(["new-key"])
    assert Tenant.objects.order_by("id").first() == alpha
    assert Tenant.objects.order_by("id").last() == gamma

    encryption_keys_verify()  # beta is not read at start
    with pytest.raises(SystemCheckError, match=r"herald\.E103.*tenant beta"):
        call_command("check", "--database", "default", "--tag", "database")
    encryption_keys(["lost-key"])
    with schema_context("gamma"):  # the newest tenant is read
        receiver_create(name="orphan", kind="webhook", secrets={"url": "https://x.example"})
    encryption_keys(["new-key"])
    with pytest.raises(ImproperlyConfigured, match="tenant gamma: receivers' secrets"):
        encryption_keys_verify()


def test_a_key_that_is_no_fernet_key_is_refused_with_the_way_to_upgrade(alpha, settings):
    settings.HERALD_ENCRYPTION_KEYS = ["an-old-style-salt"]

    with pytest.raises(ImproperlyConfigured, match=r"key 1: is not a Fernet key.*README"):
        receiver_create(name="hook", kind="webhook", secrets={"url": "https://a.example/h"})
    with pytest.raises(SystemCheckError, match=r"herald\.E102"):
        call_command("check", "--tag", "security")


@pytest.fixture
def old_install(settings):
    """The old scheme's settings: its secret key, and its salts where the upgrade reads them."""
    settings.SECRET_KEY = OLD_SECRET_KEY
    settings.HERALD_LEGACY_ENCRYPTION_SALTS = [OLD_SALT]


def _write_old_scheme_values(alpha, receiver: Receiver) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE receivers_receiver SET secrets = %s::jsonb WHERE id = %s",
            [json.dumps({"url": old_scheme_token("https://old.example/hook")}), receiver.id],
        )
        cursor.execute(
            "UPDATE public.tenants_tenant SET link_signing_key = %s WHERE id = %s",
            [old_scheme_token("the-old-link-key"), alpha.id],
        )


def _run_data_migration(app: str, name: str, schema: str) -> None:
    """The migration's own step, with the models as they were at that migration."""
    module = importlib.import_module(f"{app}.migrations.{name}")
    apps = MigrationLoader(connection).project_state((app, name)).apps

    class Editor:
        connection = type("C", (), {"schema_name": schema})()

    with schema_context(schema):
        module._reencrypt(apps, Editor())


def test_the_upgrade_migrates_values_of_the_old_scheme(alpha, old_install):
    receiver = ReceiverFactory(name="legacy", secrets={"url": "placeholder"})
    _write_old_scheme_values(alpha, receiver)

    # Before the migration: a warning for migrate (so it can run), a refusal to start.
    with pytest.raises(ImproperlyConfigured, match="old scheme"):
        encryption_keys_verify()
    call_command("check", "--database", "default", "--tag", "database")  # warnings only

    _run_data_migration("receivers", "0008_secrets_under_fernet_keys", "alpha")
    _run_data_migration("tenants", "0009_link_keys_rotation_fernet", "public")

    assert Receiver.objects.get(id=receiver.id).secrets == {"url": "https://old.example/hook"}
    assert Tenant.objects.get(id=alpha.id).link_signing_key == "the-old-link-key"
    assert "https://old.example" not in raw_secrets(receiver)
    encryption_keys_verify()


def test_rotate_secrets_migrates_the_old_scheme_too(alpha, old_install, capsys):
    receiver = ReceiverFactory(name="legacy", secrets={"url": "placeholder"})
    _write_old_scheme_values(alpha, receiver)

    call_command("rotate_secrets")

    assert "were under the old scheme and are migrated" in capsys.readouterr().out
    assert Receiver.objects.get(id=receiver.id).secrets == {"url": "https://old.example/hook"}
    assert Tenant.objects.get(id=alpha.id).link_signing_key == "the-old-link-key"


def test_without_the_old_salts_the_upgrade_names_what_it_cannot_read(alpha, settings):
    receiver = ReceiverFactory(name="legacy", secrets={"url": "placeholder"})
    settings.SECRET_KEY = OLD_SECRET_KEY
    _write_old_scheme_values(alpha, receiver)
    settings.HERALD_LEGACY_ENCRYPTION_SALTS = []

    with pytest.raises(CommandError, match="alpha/legacy"):
        call_command("rotate_secrets")
