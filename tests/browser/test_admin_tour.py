"""Browser tests: an SRE sets up Slack and tests it; an auditor checks the history."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from receivers.models import Notification, Receiver
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

SLACK_PATH = "/services/T0001/B0001/sl4ckS3cretT0ken"


def test_sre_creates_slack_receiver_previews_template_and_sends_a_test(
    page, screenshot, tenant_url, member, committed_tenants, httpserver
):
    httpserver.expect_request(SLACK_PATH, method="POST").respond_with_data("ok")
    member("sre", "editor")
    base = tenant_url("alpha")
    log_in(page, base, "sre")
    screenshot("01-index")

    # A Slack receiver pointed at the local stand-in.
    page.goto(f"{base}/admin/receivers/receiver/add/")
    page.click("text=Slack")
    page.fill("#id_name", "sre-slack")
    page.fill("#id_url", httpserver.url_for(SLACK_PATH))
    screenshot("02-receiver-slack-form")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert httpserver.url_for(SLACK_PATH) not in page.content()

    # The template editor previews while typing, and shows an error with its line.
    page.goto(f"{base}/admin/receivers/messagetemplate/add/")
    page.select_option("#id_channel", "slack")
    page.fill("#id_part", "title")
    page.fill("#id_source", "{{ severity|severity_emoji }} {{ alertname }} is firing")
    page.wait_for_selector("#preview-output pre.preview-firing")
    assert "HighLatency is firing" in page.inner_text("#preview-output pre.preview-firing")
    screenshot("03-template-live-preview")
    page.fill("#id_source", "{{ alertname }\nsecond line")
    # Locator assertions, not wait_for_function: the admin's CSP forbids eval().
    expect(page.locator("#preview-error")).to_have_text(re.compile(r"^line 1"))
    screenshot("04-template-error-inline")
    page.fill("#id_source", "{{ alertname }} is firing")
    expect(page.locator("#preview-error")).to_have_text("")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    # Send a test notification: the page says it was delivered.
    page.goto(f"{base}/admin/receivers/receiver/")
    row = page.locator("#result_list tr", has_text="sre-slack")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "send_test_notification")
    page.click("button[name=index]")
    message = page.wait_for_selector(".messagelist li")
    assert re.search(r"test notification delivered \(HTTP 200\)", message.inner_text(), re.I)
    screenshot("05-receivers-health-and-test-send")
    assert len(httpserver.log) == 1
    body = httpserver.log[0][0].get_json()
    assert "HeraldTestNotification is firing" in str(body)  # the saved template was used

    # ... and sees it delivered in the history, with its attempt.
    page.goto(f"{base}/admin/receivers/notification/")
    page.wait_for_selector("#result_list")
    assert "Delivered" in page.inner_text("#result_list")
    screenshot("06-notification-history")
    page.click("#result_list tbody tr th a, #result_list tbody tr td a >> nth=0")
    page.wait_for_selector("text=Delivery attempts")
    screenshot("07-notification-detail")

    page.goto(f"{base}/admin/overview/")
    page.wait_for_selector("#overview svg")
    screenshot("08-overview")

    with tenant_context(committed_tenants["alpha"]):
        assert Receiver.objects.get(name="sre-slack").secrets == {
            "url": httpserver.url_for(SLACK_PATH)
        }
        assert Notification.objects.filter(state="delivered").count() == 1


def test_auditor_filters_the_history_exports_csv_and_sees_no_edit_control_or_secret(
    page, screenshot, tenant_url, member, committed_tenants, httpserver
):
    from receivers.services import receiver_create
    from tests.factories import AlertGroupFactory, NotificationFactory

    secret_url = httpserver.url_for(SLACK_PATH)
    with tenant_context(committed_tenants["alpha"]):
        receiver = receiver_create(name="ops-slack", kind="slack", secrets={"url": secret_url})
        disk = AlertGroupFactory(common_labels={"alertname": "DiskFull", "severity": "critical"})
        cpu = AlertGroupFactory(common_labels={"alertname": "CpuHigh", "severity": "warning"})
        NotificationFactory(receiver=receiver, alert_group=disk, state="delivered")
        NotificationFactory(
            receiver=receiver, alert_group=cpu, state="failed", last_error="HTTP 500"
        )
    member("audrey", "auditor")
    base = tenant_url("alpha")
    log_in(page, base, "audrey")

    seen = []
    page.goto(f"{base}/admin/receivers/notification/")
    seen.append(page.content())
    page.click("#changelist-filter >> text=failed")
    page.wait_for_url(re.compile(r"state__exact=failed"))
    listing = page.inner_text("#result_list")
    assert "CpuHigh" in listing and "DiskFull" not in listing
    screenshot("09-auditor-history-filtered")
    seen.append(page.content())

    with page.expect_download() as download_info:
        page.click("a.export-csv")
    rows = list(csv.DictReader(io.StringIO(download_info.value.path().read_text())))
    assert [row["alertname"] for row in rows] == ["CpuHigh"]
    assert rows[0]["state"] == "failed" and rows[0]["last_error"] == "HTTP 500"

    for path in [
        "/admin/",
        "/admin/receivers/receiver/",
        f"/admin/receivers/receiver/{receiver.pk}/change/",
        "/admin/audit/auditentry/",
        "/admin/alerting/alertgroup/",
    ]:
        page.goto(base + path)
        seen.append(page.content())
        # No edit control: no save, add or delete, and no action that changes anything.
        assert page.locator("input[name=_save], .addlink, .deletelink").count() == 0, path
        options = page.locator("select[name=action] option").all_inner_texts()
        assert not [o for o in options if re.search(r"delete|retry|acknowledge|resolve|send", o,
                                                       re.I)], (path, options)
    screenshot("10-auditor-receiver-readonly")
    for html in seen:
        assert secret_url not in html and "sl4ckS3cret" not in html and "T0k" not in html
    page.goto(base + "/admin/audit/auditentry/")
    screenshot("11-audit-log")
