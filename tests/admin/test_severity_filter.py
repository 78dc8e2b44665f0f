"""The admin's severity filter lists alerts by level, whatever spelling their label uses."""

from __future__ import annotations

from tests.admin.test_permissions import get
from tests.factories import AlertGroupFactory


def test_filtering_by_critical_also_lists_crit_and_p1_groups(alpha, client_as):
    AlertGroupFactory(common_labels={"alertname": "DiskFull", "severity": "crit"})
    AlertGroupFactory(common_labels={"alertname": "DbDown", "severity": " P1 "})
    AlertGroupFactory(common_labels={"alertname": "CpuHigh", "severity": "warn"})
    client = client_as("auditor")

    critical = get(client, "/admin/alerting/alertgroup/?severity=critical").content.decode()
    warning = get(client, "/admin/alerting/alertgroup/?severity=warning").content.decode()

    assert "DiskFull" in critical and "DbDown" in critical and "CpuHigh" not in critical
    assert "CpuHigh" in warning and "DiskFull" not in warning


def test_an_unknown_filter_value_lists_everything_rather_than_failing(alpha, client_as):
    AlertGroupFactory(common_labels={"alertname": "DiskFull", "severity": "crit"})
    page = get(client_as("auditor"), "/admin/alerting/alertgroup/?severity=banana")
    assert page.status_code == 200 and "DiskFull" in page.content.decode()
