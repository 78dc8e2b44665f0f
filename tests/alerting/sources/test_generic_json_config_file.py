"""A generic JSON source's mapping in the configuration file: validate_config checks every
expression and names where the bad one is; the export writes the mapping as it is stored."""

from __future__ import annotations

import yaml

from alerting.config.loading import config_load
from alerting.config.sources import source_specs
from alerting.config.validation import config_validate
from tests.alerting.sources.test_generic_json_mapping import CLOUDWATCH_MAPPING
from tests.factories import IngestSourceFactory

FILE = """\
sources:
  - name: cloudwatch
    kind: generic_json
    ingest_key_prefix: hk_AbC1234
    config:
      labels:
        alertname: AlarmName
        instance: "{instance}"
      status: NewStateValue
      status_map: {{ALARM: firing, OK: resolved}}
      startsAt: StateChangeTime
"""


def problems_of(text: str) -> list[str]:
    loaded = config_load(text)
    return [
        f"{problem.severity}: {'.'.join(map(str, problem.path))}: {problem.message}"
        for problem in config_validate(loaded=loaded, level="basic", env={})
    ]


def test_a_valid_mapping_passes_and_a_bad_expression_is_named_with_its_field():
    assert problems_of(FILE.format(instance="Trigger.Dimensions[0].value")) == []

    (problem,) = problems_of(FILE.format(instance="Trigger.Dimensions[0.value"))

    assert problem.startswith("error: sources.0")
    assert "config: labels.instance: not a valid JMESPath expression" in problem


def test_a_mapping_without_start_or_with_a_wrong_status_value_is_refused():
    no_start = FILE.format(instance="x").replace("      startsAt: StateChangeTime\n", "")
    wrong_status = FILE.format(instance="x").replace("OK: resolved", "OK: fine")

    (missing,) = problems_of(no_start)
    (wrong,) = problems_of(wrong_status)

    assert "config: startsAt: the mapping needs startsAt" in missing
    assert "config: status_map.OK: must map to 'firing' or 'resolved'" in wrong


def test_the_export_writes_the_stored_mapping_and_it_loads_again(alpha):
    IngestSourceFactory(
        name="cloudwatch", kind="generic_json", ingest_key_prefix="hk_AbC1234",
        config=CLOUDWATCH_MAPPING,
    )

    (spec,) = source_specs(plain_secrets=False)
    text = yaml.safe_dump({"sources": [spec.model_dump()]}, sort_keys=False)

    assert spec.config == CLOUDWATCH_MAPPING
    assert problems_of(text) == []
