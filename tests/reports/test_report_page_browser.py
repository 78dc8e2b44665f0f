"""In Chromium, an auditor opens the report page: the SVG charts render beside their tables,
the CSV downloads, and the Content-Security-Policy refuses nothing. The page's
screenshot goes to docs/screenshots/ (the README shows it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.browser.conftest import (  # noqa: F401 - fixtures
    log_in,
    member,
    page,
    publish,
    screenshot,
    tenant_url,
)
from tests.factories import ReceiverFactory
from tests.reports.factories import incident, notified

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_the_report_page_shows_its_charts_under_the_csp(
    page, screenshot, tenant_url, member, committed_tenants  # noqa: F811
):
    with tenant_context(committed_tenants["alpha"]):
        receiver = ReceiverFactory(name="pager")
        for hours in (2, 5, 30):
            at = timezone.now() - timedelta(hours=hours)
            group = incident(at=at, alertname="DiskFull", acked_after=90, resolved_after=600)
            notified(group=group, receiver=receiver, at=at)
        chat = ReceiverFactory(name="team-chat")
        # A week of a noisy warning nobody acts on, beside the pages: seven
        # incidents of one group, each resolving by itself four minutes later.
        noisy = incident(at=timezone.now() - timedelta(hours=130), alertname="HighLatency",
                         severity="warning", resolved_after=240)
        for number, hours in enumerate((130, 100, 75, 50, 26, 9, 1), start=1):
            at = timezone.now() - timedelta(hours=hours)
            notified(group=noisy, receiver=chat, at=at, incident=number)
            notified(group=noisy, receiver=chat, at=at + timedelta(minutes=4),
                     status="resolved", incident=number)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    member("auditor-a", "auditor")
    base = tenant_url("alpha")
    log_in(page, base, "auditor-a")

    page.goto(f"{base}/admin/reports/")

    for chart in ("chart-volume", "chart-weekly", "chart-noise"):
        box = page.locator(f"svg#{chart}").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
    noise = page.inner_text("#report-noise table")
    assert "DiskFull" in noise and "HighLatency" in noise
    assert "never acknowledged" in noise  # HighLatency fired 7 times, nobody acted
    with page.expect_download() as download:
        page.click("#report-sla a.csv-link")
    assert download.value.suggested_filename.startswith("herald-sla-")
    assert violations == []
    publish(page, screenshot, "report-page")
