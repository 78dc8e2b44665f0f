"""A route's flapping settings in the configuration file: checked, applied, exported."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from alerting.config.export import document_data
from alerting.config.loading import config_load
from alerting.config.validation import config_validate
from alerting.models import Route
from tests.factories import ReceiverFactory

ROUTES = """\
routes:
  - name: disks
    matchers: ['alertname="DiskFull"']
    receivers: [team]
    flap_threshold: 4
    flap_window: 600
    flap_hold: true
  - name: rest
    default: true
    receivers: [team]
"""


def deploy(path) -> str:
    out = StringIO()
    call_command("deploy_receivers", str(path), tenant="alpha", stdout=out, stderr=StringIO())
    return out.getvalue()


def export() -> str:
    out = StringIO()
    call_command("export_config", tenant="alpha", stdout=out)
    return out.getvalue()


def test_flapping_settings_are_applied_and_exported_and_defaults_are_left_out(alpha, tmp_path):
    ReceiverFactory(name="team")
    path = tmp_path / "routes.yaml"
    path.write_text(ROUTES)

    deploy(path)

    disks, rest = Route.objects.get(name="disks"), Route.objects.get(name="rest")
    assert (disks.flap_threshold, disks.flap_window, disks.flap_hold) == (4, 600, True)
    assert (rest.flap_threshold, rest.flap_window, rest.flap_hold) == (6, 1800, False)
    exported = document_data(config_load(export()).document)["routes"]
    assert exported[0]["flap_threshold"] == 4 and exported[0]["flap_hold"] is True
    assert "flap_threshold" not in exported[1]
    assert deploy(path).strip() == "no changes"


def test_a_threshold_or_window_out_of_bounds_is_refused_with_its_place():
    text = "receivers:\n  - {name: team, kind: webhook, secrets: {url: 'https://93.184.216.34/t'}}\n"
    bad = text + ROUTES.replace("flap_threshold: 4", "flap_threshold: 1").replace(
        "flap_window: 600", "flap_window: 5")
    problems = [problem.dotted for problem in
                config_validate(loaded=config_load(bad), level="standard", env={})]
    assert "routes[0].flap_threshold" in problems
    assert "routes[0].flap_window" in problems
