"""validate_config on people, teams, schedules and targets: each mistake at its line,
and each schedule's coverage gaps and unbalanced rotations in the next 12 weeks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO
from itertools import pairwise
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from alerting.config.loading import config_load
from alerting.config.validation import config_validate
from tests.config.oncall_helpers import SAMPLES, deploy, members_of_the_tenant


def validate(path: Path | str, level: str = "standard", *, coverage_from: str = "",
             **options) -> tuple[bool, str]:
    out = StringIO()
    args = [f"--coverage-from={coverage_from}"] if coverage_from else []
    try:
        call_command("validate_config", str(path), *args, level=level, stdout=out, **options)
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


def test_schema_mistakes_name_their_field_and_line():
    ok, output = validate(SAMPLES / "oncall_schema_bad.yaml", "basic")

    assert not ok
    for line in [
        "oncall_schema_bad.yaml:3:16: error: people[0].time_zone: 'Europe/Berlln' is not a "
        "time zone (IANA, e.g. Europe/Berlin)",
        "oncall_schema_bad.yaml:6:16: error: schedules[0].time_zone: 'Mars/Olympus_Mons' is "
        "not a time zone",
        "oncall_schema_bad.yaml:11:23: error: schedules[0].layers[0].shift_length: a shift of "
        "zero length: shift_length must be at least 1",
        "oncall_schema_bad.yaml:16:9: error: schedules[0].layers[1].members: a rotation with "
        "nobody: list at least one member",
        "oncall_schema_bad.yaml:21:13: error: escalation_policies[0].levels[0].targets[0]: a "
        "target names exactly one of receiver, person, team, on_call, round_robin (not person "
        "and team)",
        # A folder of the zone database is no zone either.
        "oncall_schema_bad.yaml:23:14: error: tenant.time_zone: 'America' is not a time zone",
    ]:
        assert line in output, f"{line!r} missing:\n{output}"
    assert "6 error(s)" in output


def test_mistakes_within_the_file_are_found_at_basic():
    ok, output = validate(SAMPLES / "oncall_basic_bad.yaml", "basic")

    assert not ok
    for line in [
        "oncall_basic_bad.yaml:4:32: error: people[0].contact_methods[0].address: not a valid "
        "email address: must be an email address",
        "oncall_basic_bad.yaml:6:18: error: people[0].notification_rules[0].method: 'sms' "
        "names no contact method of 'alice'",
        "oncall_basic_bad.yaml:13:20: error: teams[0].members[2].username: 'alice' is listed "
        "twice in team 'payments' (first at members[0])",
        "oncall_basic_bad.yaml:24:9: error: schedules[0].overrides[1]: overlaps overrides[0] "
        "(replace bob, 2026-02-07 08:00 to 2026-02-09 08:00 UTC)",
        "oncall_basic_bad.yaml:25:58: error: schedules[0].overrides[2].end: end must be after "
        "start",
        "oncall_basic_bad.yaml:31:23: error: schedules[1].layers[0].shift_length: Layer "
        "'biennial': a shift of at most 366 days.",
        "oncall_basic_bad.yaml:34:35: error: schedules[1].layers[0].restrictions[0].end: a "
        "restriction ending when it starts; for all day, leave it out",
        "oncall_basic_bad.yaml:38:20: error: receivers[0].carries_pages: webhook does not page "
        "people (a channel with contact kinds does)",
        "oncall_basic_bad.yaml:46:20: error: receivers[2].carries_pages: 'mail-a' carries the "
        "email pages already (one per kind)",
    ]:
        assert line in output, f"{line!r} missing:\n{output}"
    assert "9 error(s), 0 warning(s)" in output


def test_names_that_do_not_resolve_and_non_members_are_errors_at_standard(alpha):
    members_of_the_tenant("alice", "bob", "mallory")
    path = SAMPLES / "oncall_standard_bad.yaml"
    assert validate(path, "basic")[0]

    ok, output = validate(path, "standard", tenant="alpha")

    assert not ok
    for line in [
        "oncall_standard_bad.yaml:5:15: error: people[3].username: 'nobody-here' is not a "
        "member of this tenant",
        "oncall_standard_bad.yaml:12:20: error: teams[0].members[2].username: no person named "
        "'zed'",
        "oncall_standard_bad.yaml:21:31: error: schedules[0].layers[0].members[2]: no person "
        "named 'yolanda'",
        "oncall_standard_bad.yaml:23:18: error: schedules[0].overrides[0].person: 'mallory' "
        "is not a member of team 'payments', whose schedule this is",
        "oncall_standard_bad.yaml:29:20: error: escalation_policies[0].levels[0].targets[0]"
        ".layer: schedule 'primary' has no layer named 'daily'",
        "oncall_standard_bad.yaml:30:22: error: escalation_policies[0].levels[0].targets[1]"
        ".on_call: no schedule named 'secondary'",
        "oncall_standard_bad.yaml:31:19: error: escalation_policies[0].levels[0].targets[2]"
        ".team: no team named 'platform'",
        "oncall_standard_bad.yaml:32:21: error: escalation_policies[0].levels[0].targets[3]"
        ".person: no person named 'victor'",
        "oncall_standard_bad.yaml:36:11: error: routes[0].team: no team named 'payments-team'",
    ]:
        assert line in output, f"{line!r} missing:\n{output}"
    assert "9 error(s), 0 warning(s)" in output


def test_without_a_tenant_usernames_are_a_warning_not_a_guess():
    ok, output = validate(SAMPLES / "oncall_coverage.yaml", coverage_from="2026-03-02T00:00Z")
    assert ok
    assert "oncall_coverage.yaml:1:1: warning: people: usernames not checked against a " \
        "tenant's members: pass --tenant" in output


def test_a_file_without_people_is_checked_against_the_tenants_people(alpha, tmp_path,
                                                                      monkeypatch):
    """People deployed earlier count; one who left the tenant since is named."""
    monkeypatch.setenv("PAGER_SMTP_PASSWORD", "pw")
    monkeypatch.setenv("ALICE_PRIVATE_EMAIL", "alice@example.org")
    members_of_the_tenant("alice", "bob", "carol")
    deploy(SAMPLES / "oncall.yaml")
    from tenants.models import TenantMembership

    TenantMembership.objects.filter(user__username="bob").delete()
    path = tmp_path / "team.yaml"
    path.write_text("teams:\n  - name: payments\n    members:\n      - {username: alice}\n"
                    "      - {username: bob}\n      - {username: zoe}\n")

    ok, output = validate(path, tenant="alpha")

    assert not ok
    assert "team.yaml:5:20: error: teams[0].members[1].username: 'bob' is not a member of " \
        "this tenant" in output
    assert "team.yaml:6:20: error: teams[0].members[2].username: no person named 'zoe'" in output
    assert "members[0]" not in output


COVERAGE = [
    "oncall_coverage.yaml:10:5: {level}: schedules[0]: coverage gap: nobody on call in 'db' "
    "from 2026-03-02 01:00 CET to 2026-03-02 09:00 CET (8h)",
    "oncall_coverage.yaml:10:5: {level}: schedules[0]: coverage gap: nobody on call in 'db' "
    "from 2026-03-10 12:00 CET to 2026-03-11 00:00 CET (12h)",
    "oncall_coverage.yaml:25:9: {level}: schedules[1].layers[0]: unbalanced rotation 'daily' "
    "over the 12 weeks from 2026-03-02 00:00 UTC: alice 1344h, bob 672h; alice is on call "
    "672h more than bob (2.0 times as long)",
]


def test_coverage_gaps_and_unbalanced_rotations_are_warnings_at_standard():
    ok, output = validate(SAMPLES / "oncall_coverage.yaml", "standard",
                          coverage_from="2026-03-02T00:00:00Z")

    assert ok, output
    for line in COVERAGE:
        assert line.format(level="warning") in output, output
    # Seven people in weekly shifts: 12 weeks give five of them two and two of them one,
    # which is one shift apart, and fair in the long run.
    assert "'fair'" not in output and "schedules[2]" not in output
    assert "0 error(s), 4 warning(s)" in output


def test_coverage_gaps_and_unbalanced_rotations_are_errors_at_strict():
    ok, output = validate(SAMPLES / "oncall_coverage.yaml", "strict",
                          coverage_from="2026-03-02T00:00:00Z")

    assert not ok
    for line in COVERAGE:
        assert line.format(level="error") in output, output
    assert "3 error(s), 1 warning(s)" in output


def test_the_twelve_weeks_start_now_and_restrictions_that_always_miss_some_people_show():
    """A daily rotation of seven, on call on weekdays only: two people are never on call."""
    text = """\
schedules:
  - name: office-hours
    time_zone: America/New_York
    layers:
      - name: daily
        start_date: 2026-01-05
        handoff_time: "08:00"
        shift_unit: days
        members: [a, b, c, d, e, f, g]
        restrictions:
""" + "".join(
        f'          - {{weekday: {day}, start: "09:00", end: "17:00"}}\n'
        for day in ("mon", "tue", "wed", "thu", "fri")
    )
    loaded = config_load(text)

    problems = config_validate(loaded=loaded, level="standard", env={},
                               coverage_from=datetime(2026, 1, 5, 22, tzinfo=UTC))
    (unbalanced,) = [p for p in problems if "unbalanced" in p.message]
    assert unbalanced.line == 5 and unbalanced.severity == "warning"
    assert unbalanced.message.startswith(
        "unbalanced rotation 'daily' over the 12 weeks from 2026-01-05 17:00 EST: a 96h, b 96h, "
        "c 96h, d 96h, e 96h, f 0h, g 0h; a is on call 96h more than g (g has none)"
    )
    gaps = [p for p in problems if "coverage gap" in p.message]
    # Every evening, night and weekend: ten listed with their times, the rest summed up.
    assert len(gaps) == 11
    assert gaps[0].message == ("coverage gap: nobody on call in 'office-hours' from "
                               "2026-01-05 17:00 EST to 2026-01-06 09:00 EST (16h)")
    assert gaps[-1].message == (
        "coverage gap: 51 more in 'office-hours' in the next 12 weeks (1280h in all), the last "
        "from 2026-03-30 17:00 EDT to 2026-03-30 18:00 EDT"
    )


@pytest.mark.parametrize("value", ["tomorrow", "2026-03-02T00:00"])
def test_coverage_from_must_be_an_instant(value):
    with pytest.raises(CommandError, match=r"--coverage-from: .* (not an ISO|UTC offset)"):
        call_command("validate_config", str(SAMPLES / "oncall_coverage.yaml"),
                     f"--coverage-from={value}", stdout=StringIO())


def test_times_out_of_any_sensible_range_are_errors_not_crashes():
    loaded = config_load(
        "schedules:\n  - name: x\n    time_zone: Pacific/Kiritimati\n    overrides:\n"
        "      - {person: a, start: 0001-01-01T00:00:00, end: 9999-12-31T23:59:59}\n"
    )
    problems = config_validate(loaded=loaded, level="standard", env={})
    assert [(p.line, p.dotted, p.message) for p in problems] == [
        (5, "schedules[0].overrides[0].start", "a time between 1970 and 2200"),
        (5, "schedules[0].overrides[0].end", "a time between 1970 and 2200"),
    ]


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(["UTC", "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Chatham",
                          "America", "", "x" * 80]),
    start_date=st.one_of(st.dates(), st.dates(date(2025, 1, 1), date(2027, 1, 1))),
    shift_length=st.one_of(st.integers(-5, 5000), st.integers(1, 14)),
    unit=st.sampled_from(["hours", "days", "weeks", "months"]),
    position=st.integers(-1, 3),
    members=st.lists(st.sampled_from(["alice", "bob", "", " "]), max_size=4),
    handoff=st.times(),
    instants=st.lists(st.one_of(st.datetimes(), st.datetimes(datetime(2026, 1, 1),
                                                             datetime(2026, 7, 1))),
                      min_size=2, max_size=4),
)
def test_whatever_a_schedule_says_validation_answers_with_problems(
    zone, start_date, shift_length, unit, position, members, handoff, instants
):
    """A hostile tenant's schedule is problems at their lines, never an exception."""
    text = (
        "people: [{username: alice}, {username: bob}]\n"
        "schedules:\n"
        f"  - name: s\n    time_zone: '{zone}'\n    layers:\n"
        f"      - name: l\n        start_date: '{start_date.isoformat()}'\n"
        f"        handoff_time: '{handoff.isoformat()}'\n"
        f"        shift_length: {shift_length}\n        shift_unit: {unit}\n"
        f"        start_position: {position}\n        members: {members!r}\n"
        "    overrides:\n"
        + "".join(
            f"      - {{person: alice, start: '{a.isoformat()}', end: '{b.isoformat()}'}}\n"
            for a, b in pairwise(instants)
        )
    )
    loaded = config_load(text)
    problems = config_validate(loaded=loaded, level="strict", env={},
                               coverage_from=datetime(2026, 3, 2, tzinfo=UTC))
    assert all(problem.message and problem.line for problem in problems)


def test_removing_what_the_tenants_other_sections_use_is_a_warning(alpha, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv("PAGER_SMTP_PASSWORD", "pw")
    monkeypatch.setenv("ALICE_PRIVATE_EMAIL", "alice@example.org")
    members_of_the_tenant("alice", "bob", "carol")
    deploy(SAMPLES / "oncall.yaml")
    path = tmp_path / "empty.yaml"
    path.write_text("schedules: []\nteams: []\n")

    ok, output = validate(path, tenant="alpha")

    assert ok
    assert "empty.yaml:1:1: warning: schedules: removes 'payments-primary', still used by " \
        "escalation policy 'payments-pages' (not in this file)" in output
    assert "empty.yaml:2:1: warning: teams: removes 'payments', still used by route " \
        "'payments' (not in this file)" in output


def test_removing_a_layer_a_stored_policy_pages_is_a_warning(alpha, tmp_path, monkeypatch):
    monkeypatch.setenv("SRE_HOOK_URL", "https://93.184.216.34/hook")
    monkeypatch.setenv("ALICE_PRIVATE_EMAIL", "alice@example.org")
    members_of_the_tenant("alice", "bob", "carol", "dave")
    deploy(SAMPLES / "oncall_full.yaml")
    text = (SAMPLES / "oncall_full.yaml").read_text()
    schedules = text[text.index("schedules:"):text.index("escalation_policies:")]
    path = tmp_path / "renamed.yaml"
    path.write_text(schedules.replace("name: business-hours", "name: office-hours"))

    ok, output = validate(path, tenant="alpha")

    assert ok
    assert "renamed.yaml:5:5: warning: schedules[0].layers: removes layer 'business-hours', " \
        "still used by escalation policy 'platform-pages' (not in this file)" in output


def test_two_layers_of_one_priority_are_a_warning():
    layer = '        start_date: 2026-01-05\n        handoff_time: "09:00"\n' \
        "        members: [alice]\n"
    loaded = config_load("schedules:\n  - name: s\n    layers:\n      - name: day\n" + layer
                         + "      - name: night\n" + layer)
    (problem,) = config_validate(loaded=loaded, level="basic", env={})
    assert (problem.line, problem.severity, problem.dotted) == (
        8, "warning", "schedules[0].layers[1].priority")
    assert problem.message.startswith("layers 'day' and 'night' have the same priority (0)")
