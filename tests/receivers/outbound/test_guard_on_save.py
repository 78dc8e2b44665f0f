"""Targets refused when saved, not only when sent: admin, service, deploy, import.

For a tenant without allow_private_targets each refusal names the setting.
Jailed and with a fake resolver, as the send-time guard tests are.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from receivers.models import Receiver
from receivers.services import receiver_create
from tests.admin.conftest import member
from tests.admin.test_permissions import post
from tests.receivers.outbound_jail import PUBLIC

PRIVATE = "resolves to a private or loopback address"



@pytest.fixture
def strict_alpha(alpha, monkeypatch):
    """Tenant alpha without allow_private_targets (rolled back with the test)."""
    monkeypatch.setattr(alpha, "allow_private_targets", False)
    alpha.save(update_fields=["allow_private_targets"])
    return alpha


def test_the_service_refuses_a_private_target_naming_the_setting(strict_alpha):
    with pytest.raises(ValidationError) as failure:
        receiver_create(name="internal", kind="webhook", secrets={"url": "http://10.0.0.8/hook"})
    assert PRIVATE in failure.value.message_dict["url"][0]
    assert not Receiver.objects.filter(name="internal").exists()


def test_the_service_refuses_a_private_smtp_host(strict_alpha):
    config = {"host": "localhost", "from_address": "h@example.com", "to": ["a@example.com"]}
    with pytest.raises(ValidationError) as failure:
        receiver_create(name="mail", kind="email", secrets={}, config=config)
    assert PRIVATE in failure.value.message_dict["host"][0]


def test_a_public_target_and_an_unresolvable_one_are_saved(strict_alpha, resolver):
    resolver.answer("hooks.public.test", [PUBLIC])
    receiver_create(name="public", kind="webhook", secrets={"url": "https://hooks.public.test/x"})
    # Not resolvable now (DNS may lag a deploy): saved, and every send checks it again.
    receiver_create(name="later", kind="webhook", secrets={"url": "https://not-yet.test/x"})
    assert set(Receiver.objects.values_list("name", flat=True)) >= {"public", "later"}


def test_a_tenant_that_allows_private_targets_saves_them_but_not_ambiguous_urls(alpha):
    receiver_create(name="internal", kind="webhook", secrets={"url": "http://10.0.0.8/hook"})
    with pytest.raises(ValidationError) as failure:
        receiver_create(name="split", kind="webhook",
                        secrets={"url": "http://127.0.0.1:9\\@93.184.216.34/hook"})
    assert "backslash" in failure.value.message_dict["url"][0]


def test_the_admin_form_refuses_a_private_target_on_its_field(strict_alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(member(strict_alpha, "editor-alpha", "editor"))
    form = {"name": "internal", "enabled": "on", "max_attempts": 3, "language": "en",
            "url": "http://[::ffff:169.254.169.254]/latest/meta-data/"}

    response = post(client, "/admin/receivers/receiver/add/?kind=webhook", form)

    assert response.status_code == 200  # the form again, with the error
    page = response.content.decode()
    assert "private or loopback address (IPv4-mapped form of a link-local address)" in page
    assert not Receiver.objects.filter(name="internal").exists()


DEPLOYED = """\
receivers:
  - name: internal-hook
    kind: webhook
    secrets:
      url: ${INTERNAL_HOOK_URL}
  - name: mail
    kind: email
    config:
      host: localhost
      from_address: herald@example.com
      to: [sre@example.com]
"""


def test_deploy_receivers_at_basic_level_refuses_private_targets(strict_alpha, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setenv("INTERNAL_HOOK_URL", "http://100.64.1.2/hook")
    path = tmp_path / "herald.yaml"
    path.write_text(DEPLOYED)
    errors = StringIO()

    with pytest.raises(CommandError, match="nothing applied"):
        call_command("deploy_receivers", str(path), tenant="alpha", level="basic",
                     stdout=StringIO(), stderr=errors)

    output = errors.getvalue()
    assert (f"{path}:5:12: error: receivers[0].secrets.url: unsafe target: the receiver's host "
            f"{PRIVATE} (carrier-grade NAT)") in output
    assert f"receivers[1].config.host: unsafe target: the receiver's host {PRIVATE}" in output
    assert "100.64.1.2" not in output  # the URL may hold a token
    assert not Receiver.objects.exists()


ALERTMANAGER = """\
route:
  receiver: internal
receivers:
  - name: internal
    webhook_configs:
      - url: http://127.0.0.1:9/alerts
"""


def test_import_alertmanager_config_refuses_private_targets(strict_alpha, tmp_path):
    path = tmp_path / "alertmanager.yml"
    path.write_text(ALERTMANAGER)
    errors = StringIO()

    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_alertmanager_config", str(path), tenant="alpha",
                     stdout=StringIO(), stderr=errors)

    assert "secrets.url: unsafe target: the receiver's host " + PRIVATE + " (loopback)" in (
        errors.getvalue()
    )
    assert "receiver 'internal" in errors.getvalue()
    assert not Receiver.objects.exists()


def test_import_alertmanager_config_keeps_private_targets_for_a_tenant_that_allows_them(
    alpha, tmp_path
):
    path = tmp_path / "alertmanager.yml"
    path.write_text(ALERTMANAGER)

    call_command("import_alertmanager_config", str(path), tenant="alpha", stdout=StringIO())

    assert Receiver.objects.filter(kind="webhook").count() == 1
