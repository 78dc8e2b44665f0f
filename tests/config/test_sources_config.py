"""Ingest sources in the configuration file: deployed, planned, exported with references only."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from alerting.models import IngestSource
from tests.factories import IngestSourceFactory

SECRET = "hmac-from-the-environment"


def deploy(path: Path, *, dry_run: bool = False, err: StringIO | None = None) -> str:
    out = StringIO()
    call_command("deploy_receivers", str(path), tenant="alpha", dry_run=dry_run, stdout=out,
                 stderr=err or StringIO())
    return out.getvalue()


def export() -> str:
    out = StringIO()
    call_command("export_config", tenant="alpha", stdout=out)
    return out.getvalue()


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "herald.yaml"
    path.write_text(text)
    return path


FILE = """
sources:
  - name: grafana-prod
    kind: grafana
    ingest_key_prefix: hk_AbC1234
    config: {timestamp_header: X-Grafana-Alerting-Timestamp, replay_window_seconds: 120}
    secrets: {hmac_secret: "${GRAFANA_HMAC_SECRET}"}
  - name: monitoring
    kind: pagerduty_events
    ingest_key_prefix: hk_ZyX9876
"""


def test_sources_are_deployed_planned_and_exported_without_their_secret(
    alpha, tmp_path, monkeypatch
):
    monkeypatch.setenv("GRAFANA_HMAC_SECRET", SECRET)
    path = written(tmp_path, FILE)

    plan = deploy(path, dry_run=True)
    assert "+ sources/grafana-prod" in plan and "+ sources/monitoring" in plan
    assert IngestSource.objects.count() == 0 and SECRET not in plan

    output = deploy(path)
    grafana = IngestSource.objects.get(name="grafana-prod")
    assert grafana.secrets == {"hmac_secret": SECRET}
    assert grafana.config["replay_window_seconds"] == 120
    assert IngestSource.objects.get(name="monitoring").kind == "pagerduty_events"
    assert SECRET not in output
    assert deploy(path).strip() == "no changes"

    exported = export()
    assert "${HERALD_SOURCE_GRAFANA_PROD_HMAC_SECRET}" in exported and SECRET not in exported

    monkeypatch.setenv("GRAFANA_HMAC_SECRET", "rotated")
    assert "~ sources/grafana-prod (secrets.hmac_secret)" in deploy(path)
    assert IngestSource.objects.get(name="grafana-prod").secrets == {"hmac_secret": "rotated"}


def test_a_source_the_file_no_longer_names_is_removed(alpha, tmp_path, monkeypatch):
    IngestSourceFactory(name="old-grafana", ingest_key_prefix="hk_0ld0000")
    monkeypatch.setenv("GRAFANA_HMAC_SECRET", SECRET)
    output = deploy(written(tmp_path, FILE))
    assert "- sources/old-grafana" in output
    assert set(IngestSource.objects.values_list("name", flat=True)) == {
        "grafana-prod", "monitoring",
    }


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (FILE.replace("replay_window_seconds: 120", "replay_window_seconds: 0"),
         "config.replay_window_seconds"),
        (FILE.replace("kind: grafana", "kind: nagios"), "kind"),
        (FILE.replace("hk_AbC1234", "AbC1234"), "ingest_key_prefix"),
    ],
)
def test_bad_sources_are_refused_naming_the_field(alpha, tmp_path, monkeypatch, text, named):
    monkeypatch.setenv("GRAFANA_HMAC_SECRET", SECRET)
    err = StringIO()
    with pytest.raises(CommandError):
        deploy(written(tmp_path, text), err=err)
    assert named in err.getvalue()
    assert IngestSource.objects.count() == 0


def test_an_unset_secret_variable_is_named(alpha, tmp_path, monkeypatch):
    monkeypatch.delenv("GRAFANA_HMAC_SECRET", raising=False)
    with pytest.raises(CommandError) as refused:
        deploy(written(tmp_path, FILE))
    assert "GRAFANA_HMAC_SECRET not set" in str(refused.value)


def test_at_the_strict_level_a_plain_text_source_secret_is_an_error(alpha, tmp_path):
    from tests.config.test_validation import validate

    path = written(tmp_path, FILE.replace('"${GRAFANA_HMAC_SECRET}"', "plain-secret"))
    ok, output = validate(path, "strict")
    assert not ok
    assert "sources[0].secrets.hmac_secret: plain-text secret" in output
    assert "${HERALD_SOURCE_GRAFANA_PROD_HMAC_SECRET}" in output
    assert validate(path, "standard")[0] is True  # a strict-level rule only
    assert validate(written(tmp_path, FILE), "strict")[0] is True
