"""An admin binds a Grafana source to one of the tenant's ingest keys, with a write-only secret."""

from __future__ import annotations

from alerting.audit.models import AuditEntry
from alerting.models import IngestSource
from tests.admin.test_permissions import get, post
from tests.factories import IngestSourceFactory

ADD = "/admin/alerting/ingestsource/add/"


def form(prefix: str, **fields) -> dict[str, object]:
    return {"name": "grafana-prod", "kind": "grafana", "ingest_key_prefix": prefix,
            "config": "{}", "enabled": "on", **fields}


def test_an_admin_adds_a_signed_grafana_source_and_the_secret_is_never_shown(
    alpha, users, client_as, ingest_key
):
    prefix = ingest_key(alpha)[:10]
    admin = client_as("admin")

    page = get(admin, ADD)
    assert prefix in page.content.decode()  # the tenant's keys are the choices

    response = post(admin, ADD, form(prefix, hmac_secret="s3cr3t-for-grafana",
                                     config='{"timestamp_header": "X-Grafana-Alerting-Timestamp"}'))

    assert response.status_code == 302, response.content.decode()[:3000]
    source = IngestSource.objects.get()
    assert source.secrets == {"hmac_secret": "s3cr3t-for-grafana"}
    assert source.config == {"timestamp_header": "X-Grafana-Alerting-Timestamp"}
    change = get(admin, f"/admin/alerting/ingestsource/{source.pk}/change/").content.decode()
    listing = get(admin, "/admin/alerting/ingestsource/").content.decode()
    entries = AuditEntry.objects.filter(object_type__contains="ingest")
    trail = " ".join(f"{e.before} {e.after}" for e in entries)
    assert trail  # the addition is audited, its secret redacted
    for shown in (change, listing, trail):
        assert "s3cr3t-for-grafana" not in shown

    # Saved again with the secret field empty: the secret stays.
    post(admin, f"/admin/alerting/ingestsource/{source.pk}/change/", form(prefix))
    source.refresh_from_db()
    assert source.secrets == {"hmac_secret": "s3cr3t-for-grafana"}


def test_bad_settings_are_errors_on_their_fields(alpha, users, client_as, ingest_key):
    prefix = ingest_key(alpha)[:10]
    response = post(client_as("admin"), ADD, form(
        prefix, config='{"replay_window_seconds": -5, "colour": "red"}',
    ))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Whole seconds from 1 to 86400." in errors["config"]
    assert any("Unknown settings" in e for e in errors["config"])
    assert IngestSource.objects.count() == 0


def test_another_tenants_key_is_no_choice(alpha, beta, users, client_as, ingest_key):
    beta_prefix = ingest_key(beta)[:10]
    response = post(client_as("admin"), ADD, form(beta_prefix))
    assert "ingest_key_prefix" in response.context["adminform"].form.errors
    assert IngestSource.objects.count() == 0


def test_an_auditor_sees_sources_but_cannot_change_them(alpha, users, client_as):
    IngestSourceFactory(name="grafana-prod")
    auditor = client_as("auditor")
    assert get(auditor, "/admin/alerting/ingestsource/").status_code == 200
    assert post(auditor, ADD, form("hk_abcdefg")).status_code == 403
