"""deploy_receivers and export_config with people, teams and schedules: round trips, the
plan, verification kept or lost, addresses from the environment never written back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from alerting.audit.models import AuditEntry
from escalation.models import ContactMethod, EscalationTarget, Person, Schedule, ScheduleOverride
from tests.config.oncall_helpers import (
    SAMPLES,
    deploy,
    export,
    members_of_the_tenant,
)
from tests.config.sample_env import ONCALL_ENV

SAMPLE = (SAMPLES / "oncall.yaml").read_text()



@pytest.fixture
def team(alpha, env) -> None:
    members_of_the_tenant("alice", "bob", "carol", "dave")
    deploy(SAMPLES / "oncall.yaml")


def write(tmp_path, text: str, name: str = "oncall.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_export_deploy_export_round_trips_unchanged(team, tmp_path, monkeypatch):
    exported = export()

    assert ONCALL_ENV["ALICE_PRIVATE_EMAIL"] not in exported
    assert "address: ${ALICE_PRIVATE_EMAIL}" in exported
    assert "#   ALICE_PRIVATE_EMAIL\n" in exported  # named in the header
    assert "carries_pages: true" in exported
    # Wall-clock override times of the file come back in UTC.
    assert "start: '2026-01-17T08:00:00Z'" in exported
    assert "      - targets:\n          - on_call: payments-primary\n" in exported
    assert "          - person: alice\n            fallback: true\n" in exported
    assert "    team: payments\n" in exported  # the route

    # Receivers' secrets export as HERALD_ references: set them to the stored values.
    monkeypatch.setenv("HERALD_PAGER_MAIL_PASSWORD", ONCALL_ENV["PAGER_SMTP_PASSWORD"])
    path = write(tmp_path, exported, "exported.yaml")

    assert deploy(path).strip() == "no changes"
    assert export() == exported


def test_every_on_call_section_round_trips(alpha, env, tmp_path, monkeypatch):
    """Two teams, a two-layer schedule with restrictions, every kind of override, a
    temporary schedule, every kind of target: export → deploy → export is unchanged, and
    the hand-written file (its own order, wall-clock times) deploys as no change either."""
    monkeypatch.setenv("SRE_HOOK_URL", "https://93.184.216.34/hook")
    members_of_the_tenant("alice", "bob", "carol", "dave")
    full = SAMPLES / "oncall_full.yaml"
    assert deploy(full).strip().endswith("12 created, 0 changed, 0 removed")
    assert deploy(full).strip() == "no changes"

    exported = export()
    monkeypatch.setenv("HERALD_SRE_HOOK_URL", "https://93.184.216.34/hook")
    assert deploy(write(tmp_path, exported, "exported.yaml")).strip() == "no changes"
    assert export() == exported

    schedule = Schedule.objects.get(name="platform-primary")
    layers = {layer.name: layer for layer in schedule.layers.all()}
    assert layers["business-hours"].restrictions.count() == 3
    assert layers["follow-the-sun"].shift_unit == "hours"
    assert [(o.kind, o.note) for o in schedule.overrides.order_by("start")] == [
        ("add", ""), ("remove", "dentist"), ("replace", "DST weekend"),
    ]
    # 20:00 in New York on 7 March is 01:00 UTC on the 8th (before the clocks change).
    assert schedule.overrides.get(kind="replace").start == datetime(2026, 3, 8, 1, tzinfo=UTC)
    assert schedule.temporaries.get().shifts.count() == 2
    targets = EscalationTarget.objects.filter(level__policy__name="platform-pages")
    assert sorted((t.kind, t.fallback, t.layer.name if t.layer else "") for t in targets) == [
        ("on_call", False, ""), ("on_call", False, "business-hours"), ("person", True, ""),
        ("receiver", True, ""), ("round_robin", False, ""), ("team", False, ""),
    ]
    bob = Person.objects.get(display_name="bob")
    assert bob.notification_rules.get().contact_method.address == "bob@home.example"
    assert "      - method: bob@home.example\n        delay_minutes: 2\n" in exported


def test_deploying_the_same_file_twice_changes_nothing_and_keeps_rows(team):
    layer_ids = set(Schedule.objects.get().layers.values_list("id", flat=True))
    version = Schedule.objects.get().version
    entries = AuditEntry.objects.count()

    assert deploy(SAMPLES / "oncall.yaml").strip() == "no changes"

    assert AuditEntry.objects.count() == entries
    assert set(Schedule.objects.get().layers.values_list("id", flat=True)) == layer_ids
    assert Schedule.objects.get().version == version


def test_an_unchanged_address_keeps_its_verification_and_a_new_one_is_unverified(
    team, tmp_path
):
    bob = ContactMethod.objects.get(address="bob@example.com")
    bob.verified_at = timezone.now()
    bob.save()

    relabelled = SAMPLE.replace("{kind: email, address: bob@example.com}",
                                "{kind: email, address: bob@example.com, label: work}")
    relabelled = relabelled.replace("      - {method: email}\n  - username: carol",
                                    "      - {method: work}\n  - username: carol")
    assert deploy(write(tmp_path, relabelled)).splitlines() == [
        "~ people/bob (contact_methods)",  # the rule names the same method
        "0 created, 1 changed, 0 removed",
    ]
    kept = ContactMethod.objects.get(address="bob@example.com")
    assert kept.pk == bob.pk and kept.verified and kept.label == "work"

    moved = relabelled.replace("bob@example.com", "bob@payments.example.com")
    deploy(write(tmp_path, moved))
    (method,) = Person.objects.get(display_name="Bob Berg").contact_methods.all()
    assert method.address == "bob@payments.example.com" and not method.verified
    assert method.notification_rules.get().delay_minutes == 0


def test_a_changed_address_in_the_environment_is_a_change_never_shown(team, monkeypatch):
    private = ContactMethod.objects.get(label="private")
    private.verified_at = timezone.now()
    private.save()
    monkeypatch.setenv("ALICE_PRIVATE_EMAIL", "alice.new@example.org")

    assert deploy(SAMPLES / "oncall.yaml").splitlines() == [
        "~ people/alice (contact_methods)", "0 created, 1 changed, 0 removed",
    ]

    renewed = ContactMethod.objects.get(label="private")
    assert renewed.address == "alice.new@example.org" and not renewed.verified
    assert renewed.address_reference == "${ALICE_PRIVATE_EMAIL}"
    entry = AuditEntry.objects.get(action="config_changed", object_id="alice")
    after = {m["label"]: m for m in entry.after["contact_methods"]}
    before = {m["label"]: m for m in entry.before["contact_methods"]}
    assert after["private"]["address"] == "[redacted, changed]"
    assert before["private"]["address"] == "[redacted]"
    assert after["work"]["address"] == "alice@example.com"  # not from the environment
    dumped = str([(e.before, e.after) for e in AuditEntry.objects.all()])
    assert "alice.new@example.org" not in dumped
    assert ONCALL_ENV["ALICE_PRIVATE_EMAIL"] not in dumped


def test_the_plan_lists_schedule_and_team_changes_and_removals(team, tmp_path):
    text = SAMPLE.replace("members: [alice, bob, carol]", "members: [bob, carol, dave]")
    text = text.replace("      - {username: carol}\n", "      - {username: carol}\n"
                                                      "      - {username: dave}\n")
    text = text.replace("  - username: carol\n", "  - username: dave\n"
                                                "    display_name: Dave Dunn\n"
                                                "  - username: carol\n")
    path = write(tmp_path, text)
    version = Schedule.objects.get().version

    assert deploy(path, dry_run=True).splitlines() == [
        "+ people/dave",
        "~ teams/payments (members)",
        "~ schedules/payments-primary (layers)",
        "1 created, 2 changed, 0 removed (dry run: nothing applied)",
    ]
    assert not Person.objects.filter(display_name="Dave Dunn").exists()

    deploy(path)
    schedule = Schedule.objects.get()
    assert schedule.version > version
    assert [m.person.display_name for m in schedule.layers.get().members.order_by("position")] \
        == ["Bob Berg", "Carol Chen", "Dave Dunn"]

    # Without the schedule, its policy's on-call target goes too.
    start = text.index("schedules:")
    without = text[:start] + text[text.index("escalation_policies:"):]
    without = without.replace("          - on_call: payments-primary\n", "")
    assert deploy(write(tmp_path, without)).splitlines() == [
        "~ escalation_policies/payments-pages (levels)",
        "0 created, 1 changed, 0 removed",
    ]  # a section left out is left alone
    without = without.replace("escalation_policies:", "schedules: []\n\nescalation_policies:")
    assert deploy(write(tmp_path, without)).splitlines() == [
        "- schedules/payments-primary", "0 created, 0 changed, 1 removed",
    ]
    assert not Schedule.objects.exists()
    assert not EscalationTarget.objects.filter(kind="on_call").exists()


def test_overrides_made_in_the_admin_are_not_the_files(team):
    schedule = Schedule.objects.get()
    carol = Person.objects.get(display_name="Carol Chen")
    start = datetime(2026, 2, 1, tzinfo=UTC)
    ScheduleOverride.objects.create(schedule=schedule, kind="add", person=carol, start=start,
                                    end=start + timedelta(hours=4), created_by="admin:alice")

    overrides = export().split("    overrides:\n")[1].split("\nescalation_policies:")[0]
    assert "2026-01-17T08:00:00Z" in overrides and "2026-02-01" not in overrides
    assert deploy(SAMPLES / "oncall.yaml").strip() == "no changes"
    assert schedule.overrides.count() == 2


def test_a_schedule_the_engine_refuses_as_a_whole_applies_nothing(team, tmp_path):
    """An admin-made override overlapping the file's: schedule_full_clean says so, and the
    whole file rolls back."""
    schedule = Schedule.objects.get()
    carol = Person.objects.get(display_name="Carol Chen")
    ScheduleOverride.objects.create(
        schedule=schedule, kind="add", person=carol, created_by="admin:alice",
        start=datetime(2026, 2, 7, 8, tzinfo=UTC), end=datetime(2026, 2, 9, 8, tzinfo=UTC),
    )
    text = SAMPLE.replace("2026-01-17T09:00:00", "2026-02-07T09:00:00").replace(
        "2026-01-19T09:00:00", "2026-02-09T09:00:00")
    text = text.replace("display_name: Bob Berg", "display_name: Robert Berg")

    with pytest.raises(CommandError, match=r"schedule 'payments-primary': overrides: .*overlaps"
                                           r".*; nothing applied"):
        call_command("deploy_receivers", str(write(tmp_path, text)), tenant="alpha",
                     stdout=StringIO(), stderr=StringIO())
    assert Person.objects.filter(display_name="Bob Berg").exists()
    assert schedule.overrides.get(created_by="config").start == datetime(2026, 1, 17, 8,
                                                                         tzinfo=UTC)


def test_a_person_who_left_the_tenant_cannot_be_deployed(team, tmp_path):
    from tenants.models import TenantMembership

    TenantMembership.objects.filter(user__username="carol").delete()
    err = StringIO()
    with pytest.raises(CommandError, match="nothing applied"):
        call_command("deploy_receivers", str(SAMPLES / "oncall.yaml"), tenant="alpha",
                     stdout=StringIO(), stderr=err)
    assert "oncall.yaml:33:15: error: people[2].username: 'carol' is not a member of this " \
        "tenant" in err.getvalue()


def test_removing_a_person_takes_them_out_of_rotations_under_a_new_version(team, tmp_path):
    schedule = Schedule.objects.get()
    version = schedule.version
    people_only = SAMPLE[SAMPLE.index("\npeople:"):SAMPLE.index("  - username: carol")]
    out = StringIO()
    call_command("validate_config", str(write(tmp_path, people_only)), tenant="alpha",
                 stdout=out)
    assert "oncall.yaml:2:1: warning: people: removes 'carol', still used by schedule " \
        "'payments-primary' and team 'payments' (not in this file)" in out.getvalue()

    assert deploy(write(tmp_path, people_only)).splitlines() == [
        "- people/carol", "0 created, 0 changed, 1 removed",
    ]

    schedule.refresh_from_db()
    assert schedule.version > version
    assert [m.person.display_name for m in schedule.layers.get().members.all()] == [
        "Alice Adams", "Bob Berg",
    ]
    assert not schedule.overrides.exists()  # Carol's weekend for Bob went with her
