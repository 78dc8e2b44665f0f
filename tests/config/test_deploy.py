"""deploy_receivers and export_config: idempotent, audited, round-tripping, never leaking."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from alerting.audit.models import AuditEntry
from alerting.models import Route, Silence
from escalation.models import BusinessHoursWindow, EscalationPolicy
from receivers.models import MessageTemplate, Receiver
from tenants.models import Tenant
from tests.config.sample_env import ENV
from tests.config.test_validation import SAMPLES
from tests.factories import ReceiverFactory, RouteFactory, SilenceFactory


def deploy(path: Path | str, *, dry_run: bool = False) -> str:
    out = StringIO()
    call_command("deploy_receivers", str(path), tenant="alpha", dry_run=dry_run, stdout=out,
                 stderr=StringIO())
    return out.getvalue()


def export() -> str:
    out = StringIO()
    call_command("export_config", tenant="alpha", stdout=out)
    return out.getvalue()


def test_deploy_creates_everything_in_the_file(alpha, env):
    output = deploy(SAMPLES / "valid.yaml")

    assert "+ receivers/sre-slack" in output
    assert "+ routes/databases" in output
    assert "+ silences/env=\"staging\"" in output
    assert "~ tenant/settings (time_zone)" in output
    assert "+ routes/databases-staging" in output
    assert output.strip().endswith("13 created, 1 changed, 0 removed")

    slack = Receiver.objects.get(name="sre-slack")
    assert slack.kind == "slack" and slack.secrets == {"url": ENV["SRE_SLACK_URL"]}
    hook = Receiver.objects.get(name="audit-hook")
    assert hook.secrets == {"url": ENV["AUDIT_HOOK_URL"], "authorization": "Bearer tok"}
    assert hook.config == {"headers": {"X-Team": "sre"}}
    assert Receiver.objects.get(name="oncall-mail").enabled is False
    pager = Receiver.objects.get(name="dba-pager")
    assert pager.max_attempts == 8 and pager.max_age_seconds == 3600
    assert pager.rate_limit == "30/minute" and pager.fallback == slack
    assert slack.fallback is None and slack.rate_limit == "" and slack.max_age_seconds == 6 * 3600
    assert Tenant.objects.get(slug="alpha").time_zone == "Europe/Berlin"

    routes = list(Route.objects.filter(parent=None).order_by("position"))
    assert [route.name for route in routes] == ["databases", "everything-else"]
    staging = Route.objects.get(name="databases-staging")
    assert staging.parent == routes[0] and not staging.inherit_receivers
    assert routes[0].matchers == 'team="db", severity=~"critical|error"'
    assert routes[0].continue_matching and not routes[0].is_default
    assert routes[0].escalation_policy.name == "db-oncall"
    assert {r.name for r in routes[1].receivers.all()} == {"sre-slack", "audit-hook"}
    assert routes[1].is_default

    policy = EscalationPolicy.objects.get(name="db-oncall")
    assert policy.repeat_count == 1
    levels = list(policy.levels.order_by("position"))
    assert [level.delay_minutes for level in levels] == [0, 15]
    assert {r.name for r in levels[1].receivers.all()} == {"dba-pager", "sre-slack"}

    assert MessageTemplate.objects.get(channel="slack", part="title").source.startswith(
        "{{ severity|severity_emoji"
    )
    assert BusinessHoursWindow.objects.count() == 2
    weekly = Silence.objects.get(matchers='env="staging"')
    assert weekly.weekdays == [0, 1, 2, 3, 4] and weekly.time_zone == "Europe/Berlin"
    assert weekly.created_by == "config"

    entries = list(AuditEntry.objects.filter(action="config_created"))
    assert len(entries) == 13
    assert all(entry.source == "command" for entry in entries)


def test_applying_the_same_file_twice_changes_nothing(alpha, env):
    deploy(SAMPLES / "valid.yaml")
    entries = AuditEntry.objects.count()

    assert deploy(SAMPLES / "valid.yaml").strip() == "no changes"
    assert AuditEntry.objects.count() == entries


def test_dry_run_prints_the_diff_and_writes_nothing(alpha, env):
    output = deploy(SAMPLES / "valid.yaml", dry_run=True)
    assert "+ receivers/sre-slack" in output
    assert "(dry run: nothing applied)" in output
    assert not Receiver.objects.exists() and not AuditEntry.objects.exists()


def test_changes_and_removals_are_listed_and_audited_without_secrets(alpha, env, tmp_path,
                                                                      monkeypatch):
    deploy(SAMPLES / "valid.yaml")
    text = (SAMPLES / "valid.yaml").read_text()
    text = text.replace("      - delay_minutes: 15", "      - delay_minutes: 30")
    text = text.replace("    continue: true\n", "")
    # Drop the e-mail receiver.
    start = text.index("  - name: oncall-mail")
    text = text[:start] + text[text.index("\ntemplates:"):]
    changed = tmp_path / "changed.yaml"
    changed.write_text(text)
    monkeypatch.setenv("SRE_SLACK_URL", "https://93.184.216.34/services/T0/B0/rotated")

    output = deploy(changed)

    assert "~ receivers/sre-slack (secrets.url)" in output
    assert "~ escalation_policies/db-oncall (levels)" in output
    assert "~ routes/databases (continue)" in output
    assert "- receivers/oncall-mail" in output
    assert output.strip().endswith("0 created, 3 changed, 1 removed")
    assert not Receiver.objects.filter(name="oncall-mail").exists()
    assert Receiver.objects.get(name="sre-slack").secrets["url"].endswith("/rotated")

    entry = AuditEntry.objects.get(action="config_changed", object_id="sre-slack")
    assert entry.after["secrets"] == {"url": "[redacted, changed]"}
    assert entry.before["secrets"] == {"url": "[redacted]"}
    dumped = str([(e.before, e.after) for e in AuditEntry.objects.all()])
    for secret in ENV.values():
        assert secret not in dumped
    assert "rotated" not in dumped


def test_sections_left_out_are_left_alone_and_adhoc_silences_stay(alpha, env, tmp_path):
    ReceiverFactory(name="hand-made")
    SilenceFactory(created_by="api:alpha")
    only_routes = tmp_path / "routes.yaml"
    only_routes.write_text("routes:\n  - name: all\n    receivers: [hand-made]\n")

    assert deploy(only_routes).strip().endswith("1 created, 0 changed, 0 removed")
    assert Receiver.objects.filter(name="hand-made").exists()

    empty_silences = tmp_path / "silences.yaml"
    empty_silences.write_text("silences: []\n")
    assert deploy(empty_silences).strip() == "no changes"
    assert Silence.objects.count() == 1


def test_an_invalid_file_applies_nothing(alpha, env, monkeypatch):
    monkeypatch.delenv("SRE_SLACK_URL")
    err = StringIO()
    with pytest.raises(CommandError, match="not valid at level standard; nothing applied"):
        call_command("deploy_receivers", str(SAMPLES / "valid.yaml"), tenant="alpha",
                     stdout=StringIO(), stderr=err)
    assert "environment variable SRE_SLACK_URL is not set" in err.getvalue()
    assert not Receiver.objects.exists()


def test_export_round_trips_through_deploy_without_secret_values(alpha, env, tmp_path,
                                                                 monkeypatch):
    deploy(SAMPLES / "valid.yaml")
    exported = export()

    for secret in ENV.values():
        assert secret not in exported
    assert "url: ${HERALD_SRE_SLACK_URL}" in exported
    assert "HERALD_AUDIT_HOOK_AUTHORIZATION" in exported  # named in the header
    assert "source: |" in exported  # templates stay readable
    assert "tenant:\n  time_zone: Europe/Berlin\n" in exported
    assert "    max_age_seconds: 3600\n    rate_limit: 30/minute\n    fallback: sre-slack\n" in (
        exported
    )

    # The exported references, set to the stored values, deploy as "no changes".
    monkeypatch.setenv("HERALD_SRE_SLACK_URL", ENV["SRE_SLACK_URL"])
    monkeypatch.setenv("HERALD_DBA_PAGER_ROUTING_KEY", ENV["DBA_PAGERDUTY_KEY"])
    monkeypatch.setenv("HERALD_AUDIT_HOOK_URL", ENV["AUDIT_HOOK_URL"])
    monkeypatch.setenv("HERALD_AUDIT_HOOK_AUTHORIZATION", "Bearer tok")
    monkeypatch.setenv("HERALD_ONCALL_MAIL_PASSWORD", ENV["ONCALL_SMTP_PASSWORD"])
    path = tmp_path / "exported.yaml"
    path.write_text(exported)

    assert deploy(path).strip() == "no changes"
    assert export() == exported


def test_routes_end_up_in_the_files_order(alpha, tmp_path):
    hook = ReceiverFactory(name="hook")
    RouteFactory(name="a", position=5, receivers=[hook])
    RouteFactory(name="b", position=6, receivers=[hook])
    path = tmp_path / "routes.yaml"
    path.write_text("routes:\n" + "".join(
        f"  - name: {name}\n    receivers: [hook]\n" for name in ("a", "b", "c")
    ))

    assert deploy(path).strip().splitlines() == ["+ routes/c", "1 created, 0 changed, 0 removed"]
    assert list(Route.objects.order_by("position").values_list("name", flat=True)) == [
        "a", "b", "c",
    ]
    assert deploy(path).strip() == "no changes"


def test_a_fallback_may_name_a_receiver_defined_later_in_the_file(alpha, env, tmp_path):
    path = tmp_path / "fallback.yaml"
    path.write_text(
        "receivers:\n"
        "  - {name: first, kind: webhook, fallback: second, secrets: {url: 'https://h.test/1'}}\n"
        "  - {name: second, kind: webhook, secrets: {url: 'https://h.test/2'}}\n"
    )
    deploy(path)
    assert Receiver.objects.get(name="first").fallback.name == "second"

    # Dropping the fallback is a change like any other.
    path.write_text(path.read_text().replace(" fallback: second,", ""))
    assert "~ receivers/first (fallback)" in deploy(path)
    assert Receiver.objects.get(name="first").fallback is None


def test_an_import_that_closes_a_fallback_cycle_through_the_tenants_receivers_is_refused(
    alpha, env
):
    from alerting.config.apply import ConfigApplyError, config_apply
    from alerting.config.schema import ConfigDocument, ReceiverSpec

    pager = ReceiverFactory(name="pager")
    ReceiverFactory(name="chat", fallback=pager)
    # The file keeps the tenant's other receivers (no prune), so "chat" counts.
    document = ConfigDocument(receivers=[ReceiverSpec(
        name="pager", kind="webhook", fallback="chat", secrets={"url": ENV["AUDIT_HOOK_URL"]},
    )])

    with pytest.raises(ConfigApplyError, match="fallback cycle: pager → chat → pager"):
        config_apply(document=document, env=env, actor="test", prune=False)
    assert Receiver.objects.get(name="pager").fallback is None
