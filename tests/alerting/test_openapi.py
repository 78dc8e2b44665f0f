"""The API describes itself: an OpenAPI schema and docs that work offline."""

import yaml
from django.core.management import call_command

from tests.ingest import keep_schema, public_client


def test_the_schema_validates_without_warnings_and_covers_ingest_and_reads(tmp_path, db):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/alertmanager/", "/api/v1/alertmanager/{key}/", "/api/v1/alerts/",
        "/api/v1/alerts/{id}/", "/api/v1/alert-groups/", "/api/v1/alert-groups/{id}/",
        "/api/v1/alert-groups/{id}/acknowledge/", "/api/v1/alert-groups/{id}/resolve/",
        "/api/v1/schedules/", "/api/v1/schedules/{id}/", "/api/v1/schedules/{id}/on-call/",
        "/api/v1/schedules/{id}/overrides/",
        "/api/v1/schedules/{id}/overrides/{override_id}/",
        "/api/v1/teams/", "/api/v1/teams/{id}/", "/api/v1/teams/{id}/on-call/",
    } <= set(schema["paths"])
    on_call = schema["paths"]["/api/v1/schedules/{id}/on-call/"]["get"]
    assert "at" in {parameter["name"] for parameter in on_call["parameters"]}
    assert {"200", "400", "401", "403", "404", "409"} <= set(on_call["responses"])
    ingest = schema["paths"]["/api/v1/alertmanager/"]["post"]
    assert {"200", "400", "401", "413", "415", "429"} <= set(ingest["responses"])
    example = ingest["requestBody"]["content"]["application/json"]["examples"]
    assert next(iter(example.values()))["value"]["version"] == "4"
    assert set(schema["components"]["securitySchemes"]) == {"ingestKey", "apiToken"}


def test_the_schema_and_docs_are_served_without_a_cdn(db):
    client = public_client()
    with keep_schema():
        schema = client.get("/api/schema/")
        docs = client.get("/api/docs/")
    assert schema.status_code == 200
    assert b"/api/v1/alertmanager/" in schema.content
    assert docs.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content
    assert b"cdn.jsdelivr.net" not in docs.content
