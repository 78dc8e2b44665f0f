"""In Chromium, an auditor opens the report page: the SVG charts render beside their tables,
the CSV downloads, and the Content-Security-Policy refuses nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.browser.conftest import log_in, member, page, tenant_url  # noqa: F401 - fixtures
from tests.factories import ReceiverFactory
from tests.reports.factories import incident, notified

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_the_report_page_shows_its_charts_under_the_csp(page, tenant_url, member,  # noqa: F811
                                                       committed_tenants):
    with tenant_context(committed_tenants["alpha"]):
        receiver = ReceiverFactory(name="pager")
        for hours in (2, 5, 30):
            at = timezone.now() - timedelta(hours=hours)
            group = incident(at=at, alertname="DiskFull", acked_after=90, resolved_after=600)
            notified(group=group, receiver=receiver, at=at)
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
    # Three groups of DiskFull, each fired once and acknowledged: two bars each.
    assert page.locator("svg#chart-noise rect.bar").count() == 6
    assert "DiskFull" in page.inner_text("#report-noise table")
    with page.expect_download() as download:
        page.click("#report-sla a.csv-link")
    assert download.value.suggested_filename.startswith("herald-sla-")
    assert violations == []
