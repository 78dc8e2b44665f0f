"""validate_config: each level catches its class of problem, at its place in the file."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from alerting.config.loading import config_load
from alerting.config.validation import LEVELS, config_validate

SAMPLES = Path(__file__).parent / "samples"



def validate(sample: str | Path, level: str, **options) -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("validate_config", str(SAMPLES / sample), level=level, stdout=out,
                     **options)
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


# Each sample is fine up to the level before `fails_at`, and fails from there on.
CASES = {
    "basic_bad.yaml": ("basic", [
        "basic_bad.yaml:4:11: error: receivers[0].kind: Input should be 'webhook'",
        "basic_bad.yaml:19:5: error: routes[0].matchers: team=~'(db': bad regex",
        "basic_bad.yaml:21:12: error: routes[0].retry: Extra inputs are not permitted",
    ]),
    "basic_private_target.yaml": ("basic", [
        # Without a tenant nobody knows whether private targets are allowed.
        "basic_private_target.yaml:7:12: warning: receivers[0].secrets.url: not checked "
        "against a tenant: pass --tenant or --allow-private (the receiver's host resolves to "
        "a private or loopback address (private))",
        "basic_private_target.yaml:11:12: error: receivers[1].secrets.url: unsafe target: the "
        "receiver URL contains a backslash",
    ]),
    "basic_bad_settings.yaml": ("basic", [
        "basic_bad_settings.yaml:6:15: error: receivers[0].config.colour: is not a setting",
        "basic_bad_settings.yaml:9:5: error: receivers[1]: 'pager' is defined twice",
        "basic_bad_settings.yaml:13:21: error: receivers[1].config.from_address: must be an email",
    ]),
    "standard_bad.yaml": ("standard", [
        "standard_bad.yaml:6:12: error: receivers[0].secrets.url: environment variable "
        "UNSET_SLACK_URL is not set",
        "standard_bad.yaml:12:13: error: templates[0].source: line 2: unexpected '}'",
        "standard_bad.yaml:17:21: error: escalation_policies[0].levels[0].receivers[0]: "
        "no receiver named 'dba-pager'",
        "standard_bad.yaml:20:28: error: routes[0].receivers[1]: no receiver named 'nobody'",
        "standard_bad.yaml:21:24: error: routes[0].escalation_policy: no escalation policy "
        "named 'no-such-policy'",
    ]),
    "strict_bad.yaml": ("strict", [
        "strict_bad.yaml:7:12: error: receivers[0].secrets.url: plain-text secret: reference "
        "an environment variable instead, e.g. ${HERALD_SRE_SLACK_URL}",
        "strict_bad.yaml:12:20: error: receivers[1].config.headers.X-Api-Key: looks like a "
        "secret in plain config",
    ]),
    "paranoid_bad.yaml": ("paranoid", [
        "paranoid_bad.yaml:4:5: error: receivers[0]: the 'title' renders to 177 characters for "
        "the firing sample; Slack (header block) allows 150",
    ]),
}


@pytest.mark.parametrize("sample", sorted(CASES))
def test_each_level_catches_its_class_of_problem(env, sample):
    fails_at, expected = CASES[sample]
    for level in LEVELS:
        ok, output = validate(sample, level)
        if LEVELS.index(level) < LEVELS.index(fails_at):
            assert ok, f"{sample} should pass {level}:\n{output}"
            continue
        assert not ok, f"{sample} should fail {level}"
        for line in expected:
            assert line in output, f"{line!r} missing at {level}:\n{output}"


def test_the_full_example_is_valid_at_every_level(env):
    for level in LEVELS:
        ok, output = validate("valid.yaml", level)
        assert ok, output
        assert f"valid at level {level}" in output


def test_a_private_target_is_fine_when_allowed(env):
    loaded = config_load((SAMPLES / "basic_private_target.yaml").read_text())
    problems = config_validate(loaded=loaded, level="strict", env=env, allow_private=True)
    # The address is fine when allowed; a spelling parsers disagree on never is.
    assert [problem.dotted for problem in problems if "unsafe target" in problem.message] == [
        "receivers[1].secrets.url"
    ]


def test_a_loopback_target_is_an_error_only_for_a_tenant_that_refuses_private_targets(
    env, alpha, tmp_path, monkeypatch
):
    monkeypatch.setenv("LOCAL_HOOK_URL", "http://127.0.0.1:9000/hook")
    path = tmp_path / "local.yaml"
    path.write_text(
        "receivers:\n  - name: local-hook\n    kind: webhook\n"
        "    secrets:\n      url: ${LOCAL_HOOK_URL}\n"
    )

    # An SRE checking a file in CI, without a tenant: told, not failed.
    out = StringIO()
    call_command("validate_config", str(path), level="strict", stdout=out)
    assert "warning: receivers[0].secrets.url: not checked against a tenant" in out.getvalue()
    assert "0 error(s), 1 warning(s)" in out.getvalue()
    assert validate_path(path, allow_private=True) == (True, "0 error(s), 0 warning(s)")

    # Against a tenant that allows them: fine; one that does not: refused.
    assert validate_path(path, tenant="alpha") == (True, "0 error(s), 0 warning(s)")
    alpha.allow_private_targets = False
    alpha.save(update_fields=["allow_private_targets"])
    ok, first_line = validate_path(path, tenant="alpha")
    assert not ok and "error: receivers[0].secrets.url: unsafe target" in first_line
    with pytest.raises(CommandError, match="nothing applied"):
        call_command("deploy_receivers", str(path), tenant="alpha", stdout=StringIO(),
                     stderr=StringIO())


def validate_path(path: Path, **options) -> tuple[bool, str]:
    """Whether the file is valid, and the first line printed."""
    out = StringIO()
    try:
        call_command("validate_config", str(path), level="strict", stdout=out, **options)
    except CommandError:
        return False, out.getvalue().splitlines()[0]
    return True, out.getvalue().splitlines()[0]


FALLBACKS = """\
tenant:
  time_zone: Mars/Olympus_Mons
receivers:
  - {name: a, kind: webhook, fallback: b, secrets: {url: https://93.184.216.34/a}}
  - {name: b, kind: webhook, fallback: a, secrets: {url: https://93.184.216.34/b}}
  - {name: c, kind: webhook, fallback: nobody, secrets: {url: https://93.184.216.34/c}}
  - name: d
    kind: webhook
    fallback: d
    rate_limit: lots per minute
    max_age_seconds: 0
    secrets: {url: https://93.184.216.34/d}
"""


def test_fallbacks_rate_limits_ages_and_the_time_zone_are_checked(tmp_path):
    path = tmp_path / "fallbacks.yaml"
    path.write_text(FALLBACKS)

    ok, basic = validate(path, "basic")
    assert not ok
    assert "fallbacks.yaml:2:14: error: tenant.time_zone: 'Mars/Olympus_Mons' is not a time " \
        "zone (IANA, e.g. Europe/Berlin)" in basic
    assert "fallbacks.yaml:10:17: error: receivers[3].rate_limit: 'lots per minute' is not a " \
        "rate (e.g. 30/minute)" in basic
    assert "fallbacks.yaml:11:22: error: receivers[3].max_age_seconds: Input should be " \
        "greater than or equal to 60" in basic
    assert "cycle" not in basic  # references are the standard level's

    path.write_text(FALLBACKS.replace("Mars/Olympus_Mons", "UTC").replace(
        "    rate_limit: lots per minute\n    max_age_seconds: 0\n", ""))
    ok, standard = validate(path, "standard")
    assert not ok
    assert "fallbacks.yaml:4:40: error: receivers[0].fallback: fallback cycle: a → b → a" in (
        standard
    )
    assert "receivers[1].fallback" not in standard  # one cycle, reported once
    assert "receivers[2].fallback: no receiver named 'nobody'" in standard
    assert "receivers[3].fallback: fallback cycle: d → d" in standard


def test_yaml_errors_name_their_line():
    loaded = config_load("receivers:\n  - name: a\n    kind: [slack\n")
    (problem,) = config_validate(loaded=loaded, level="basic", env={})
    assert problem.line == 4
    assert problem.message.startswith("YAML:")


def test_a_secret_value_never_appears_in_problems(env, monkeypatch):
    monkeypatch.setenv("SRE_SLACK_URL", "not a url but a s3cr3t")
    ok, output = validate("valid.yaml", "standard")
    assert not ok
    assert "receivers[0].secrets.url: must be an http:// or https:// URL" in output
    assert "s3cr3t" not in output
