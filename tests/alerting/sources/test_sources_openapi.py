"""The schema documents the Grafana and PagerDuty-compatible endpoints and their answers."""

import yaml
from django.core.management import call_command


def test_the_schema_describes_grafana_and_pagerduty_ingest(tmp_path, db):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    paths = yaml.safe_load(target.read_text())["paths"]
    grafana = paths["/api/v1/grafana/"]["post"]
    assert {"200", "400", "401", "403", "413", "429"} <= set(grafana["responses"])
    example = grafana["requestBody"]["content"]["application/json"]["examples"]
    assert next(iter(example.values()))["value"]["version"] == "1"
    assert "/api/v1/grafana/{key}/" in paths
    enqueue = paths["/api/v1/events/v2/enqueue"]["post"]
    assert {"202", "400", "401", "403", "429"} <= set(enqueue["responses"])
    errors = enqueue["responses"]["400"]["content"]["application/json"]["schema"]
    assert errors["$ref"].endswith("/EnqueueError")
    assert enqueue.get("security") in (None, [], [{}])  # the key travels in the body
