"""A ServiceNow receiver as code: deployed from YAML with its secrets as ${ENV} references,
exported as references again, and a bad setting an error naming it."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from receivers.models import Receiver
from tests.config.oncall_helpers import deploy, export

pytestmark = pytest.mark.django_db

SERVICENOW = """\
receivers:
  - name: snow
    kind: servicenow
    config:
      instance_url: https://acme.service-now.com
      username: herald.integration
      assignment_group: Database
      close_code: Workaround provided
      reopen_window_minutes: 120
    secrets: {password: "${SNOW_PASSWORD}", webhook_secret: "${SNOW_WEBHOOK_SECRET}"}
"""


@pytest.fixture
def snow_env(monkeypatch) -> None:
    monkeypatch.setenv("SNOW_PASSWORD", "pa55-word-0")
    monkeypatch.setenv("SNOW_WEBHOOK_SECRET", "sync-back-secret-0123456789")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "snow.yaml"
    path.write_text(text)
    return path


def test_a_servicenow_receiver_deploys_and_exports_its_secrets_as_references(
    alpha, snow_env, tmp_path,
):
    path = write(tmp_path, SERVICENOW)

    deploy(path)

    receiver = Receiver.objects.get(name="snow")
    assert receiver.kind == "servicenow"
    assert receiver.config["reopen_window_minutes"] == 120
    assert receiver.secrets == {"password": "pa55-word-0",
                                "webhook_secret": "sync-back-secret-0123456789"}
    exported = export()
    assert "kind: servicenow" in exported
    assert "pa55-word-0" not in exported and "sync-back-secret" not in exported
    assert deploy(path).strip() == "no changes"


def test_a_bad_servicenow_setting_is_an_error_naming_it(alpha, snow_env, tmp_path):
    text = SERVICENOW.replace("reopen_window_minutes: 120", "reopen_window_minutes: -5")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("validate_config", str(write(tmp_path, text)), level="basic", stdout=out)

    assert "reopen_window_minutes" in out.getvalue()
    assert not Receiver.objects.filter(name="snow").exists()
