"""In Chromium, under Herald's CSP: an editor opens a generic JSON source, follows the link to
its test console, pastes a CloudWatch alarm and sees the alert it becomes; nothing refused."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import tenant_context

from alerting.models import Alert
from tenants.services import ingest_key_create
from tests.alerting.sources.test_generic_json_mapping import CLOUDWATCH_MAPPING, cloudwatch_alarm
from tests.browser.conftest import log_in
from tests.factories import IngestSourceFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_an_editor_tries_a_sample_in_the_console_with_no_csp_violation(
    page, tenant_url, member, committed_tenants
):
    alpha = committed_tenants["alpha"]
    key = ingest_key_create(tenant=alpha, name="cloudwatch")[1]
    with tenant_context(alpha):
        source = IngestSourceFactory(
            name="cloudwatch", kind="generic_json", ingest_key_prefix=key[:10],
            config=CLOUDWATCH_MAPPING,
        )
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    member("sre", "editor")
    base = tenant_url("alpha")
    log_in(page, base, "sre")

    page.goto(f"{base}/admin/alerting/ingestsource/{source.pk}/change/")
    page.click("text=Test the mapping with a sample body")
    page.fill("#id_sample", json.dumps(cloudwatch_alarm()))
    page.click("input[type=submit][value='Show the alerts']")
    page.wait_for_selector("#generic-json-alerts")

    table = page.inner_text("#generic-json-alerts")
    assert 'instance="i-0abc123"' in table and "firing" in table
    assert "HighCPU" in page.inner_text("#generic-json-result")
    assert violations == []
    with tenant_context(alpha):
        assert Alert.objects.count() == 0
