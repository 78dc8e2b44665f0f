"""An editor pastes a sample body on a generic JSON source's page and sees the alerts it would
become (or the error by field); nothing is stored, auditors may not run it."""

from __future__ import annotations

import json
import re

import pytest

from alerting.models import Alert, AlertGroup, IngestSource
from tests.admin import conftest as admin_fixtures
from tests.admin.test_permissions import get, post
from tests.alerting.sources.test_generic_json_mapping import (
    CLOUDWATCH_MAPPING,
    ZABBIX_MAPPING,
    cloudwatch_alarm,
    zabbix_event,
)
from tests.factories import IngestSourceFactory

# The admin tests' members of alpha by role and their logged-in clients.
users = admin_fixtures.users
client_as = admin_fixtures.client_as
_fast_passwords = admin_fixtures._fast_passwords


@pytest.fixture
def source(alpha, ingest_key) -> IngestSource:
    return IngestSourceFactory(
        name="cloudwatch", kind="generic_json", ingest_key_prefix=ingest_key(alpha)[:10],
        config=CLOUDWATCH_MAPPING,
    )


def console(source) -> str:
    return f"/admin/alerting/ingestsource/{source.pk}/test-mapping/"


def test_the_change_page_links_to_the_console_which_shows_the_saved_mapping(
    source, client_as
):
    editor = client_as("editor")

    change = get(editor, f"/admin/alerting/ingestsource/{source.pk}/change/").content.decode()
    page = get(editor, console(source))

    assert console(source) in change
    assert page.status_code == 200
    assert "AlarmName" in page.content.decode()  # the saved mapping, to edit


def test_a_pasted_alarm_shows_its_alerts_and_nothing_is_stored(source, client_as):
    response = post(client_as("editor"), console(source), {
        "mapping": json.dumps(CLOUDWATCH_MAPPING), "sample": json.dumps(cloudwatch_alarm()),
    })

    assert response.status_code == 200
    (group,) = response.context["result"].groups
    assert group["groupKey"] == 'source/cloudwatch:{alertname="HighCPU"}'
    assert group["alerts"][0]["labels"]["instance"] == "i-0abc123"
    assert group["alerts"][0]["startsAt"] == "2026-11-30T10:00:00Z"
    page = response.content.decode()
    assert "alertname=&quot;HighCPU&quot;" in page
    assert (Alert.objects.count(), AlertGroup.objects.count()) == (0, 0)
    assert IngestSource.objects.get().config == CLOUDWATCH_MAPPING


def test_an_edited_mapping_is_tried_unsaved_and_its_error_names_the_field(source, client_as):
    editor = client_as("editor")
    tried = post(editor, console(source), {
        "mapping": json.dumps(ZABBIX_MAPPING), "sample": json.dumps(zabbix_event()),
    })
    wrong = post(editor, console(source), {
        "mapping": json.dumps({**ZABBIX_MAPPING, "labels": {"host": "host.id"}}),
        "sample": json.dumps(zabbix_event()),
    })
    not_json = post(editor, console(source), {
        "mapping": json.dumps(ZABBIX_MAPPING), "sample": "{'single': 'quotes'}",
    })

    assert tried.context["result"].groups[0]["alerts"][0]["labels"]["host"] == "web-01"
    assert wrong.context["result"].error_field == "labels"
    assert "yields no labels" in wrong.content.decode()
    assert not_json.context["result"].error_field == "sample"
    assert IngestSource.objects.get().config == CLOUDWATCH_MAPPING  # never saved


def test_hostile_markup_in_a_sample_is_shown_as_text(source, client_as):
    alarm = {**cloudwatch_alarm(), "AlarmName": "<script>alert(1)</script>"}
    response = post(client_as("editor"), console(source), {
        "mapping": json.dumps(CLOUDWATCH_MAPPING), "sample": json.dumps(alarm),
    })
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    # No inline script: the admin's CSP stays as it is.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "script-src" in response.headers.get("Content-Security-Policy", "")


def test_only_those_who_may_change_the_source_run_the_console(source, client_as):
    body = {"mapping": json.dumps(CLOUDWATCH_MAPPING), "sample": json.dumps(cloudwatch_alarm())}

    auditor = post(client_as("auditor"), console(source), body)
    outsider = post(client_as("outsider"), console(source), body)

    assert auditor.status_code == 403
    assert outsider.status_code in (302, 403)  # not alpha's member: sent to log in


def test_the_console_is_rate_limited_like_the_template_preview(source, client_as, settings):
    settings.HERALD_TEMPLATE_PREVIEW_RATE_LIMIT = "2/minute"
    editor = client_as("editor")
    body = {"mapping": json.dumps(CLOUDWATCH_MAPPING), "sample": json.dumps(cloudwatch_alarm())}

    statuses = [post(editor, console(source), body).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_saving_a_mapping_with_a_bad_expression_is_refused_naming_it(alpha, client_as, ingest_key):
    prefix = ingest_key(alpha)[:10]
    mapping = {**CLOUDWATCH_MAPPING, "labels": {"alertname": "AlarmName", "host": "host.[name"}}

    response = post(client_as("editor"), "/admin/alerting/ingestsource/add/", {
        "name": "cloudwatch", "kind": "generic_json", "ingest_key_prefix": prefix,
        "config": json.dumps(mapping), "enabled": "on",
    })

    assert response.status_code == 200
    (error,) = response.context["adminform"].form.errors["config"]
    assert error.startswith("labels.host: not a valid JMESPath expression")
    assert IngestSource.objects.count() == 0
