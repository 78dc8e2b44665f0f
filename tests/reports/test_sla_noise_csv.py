"""The SLA view, the noise report's suggestions and the tables' CSV, from known incidents."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from django.utils import translation

from alerting.reports.models import SlaTarget
from alerting.reports.noise import noise_suggestion
from alerting.reports.selectors import noisiest_alerts, sla_shares
from alerting.reports.tables import noise_table, sla_table, table_csv
from tests.factories import ReceiverFactory
from tests.reports.factories import incident, notified

START = datetime(2026, 11, 1, tzinfo=UTC)
END = START + timedelta(days=7)
DAY = START + timedelta(days=2)


def test_the_share_acknowledged_within_each_severitys_target(alpha):
    SlaTarget.objects.create(severity="critical", acknowledge_within_minutes=5)
    for seconds in (60, 299, 300, 301):
        incident(at=DAY, acked_after=seconds)
    incident(at=DAY)  # never acknowledged
    incident(at=DAY, severity="info", acked_after=10)  # no target for info

    rows = {row.severity: row for row in sla_shares(start=START, end=END)}

    critical = rows["critical"]
    assert (critical.incidents, critical.within, critical.late, critical.never) == (5, 3, 1, 1)
    assert critical.share == 0.6
    assert rows["info"].target_minutes is None and rows["info"].share is None
    table = sla_table(start=START, end=END)
    assert ["critical", 5, 5, 3, 1, 1, 60.0] in table.rows


def test_an_alert_that_fires_all_week_and_nobody_acknowledges_is_called_out(alpha):
    receiver = ReceiverFactory(name="pager")
    noisy = incident(at=DAY, alertname="DiskAlmostFull", group_labels={"instance": "db-1"})
    for n in range(40):  # 40 incidents of one group: fired, resolved 2 min later
        at = DAY + timedelta(hours=n)
        notified(group=noisy, receiver=receiver, at=at, incident=n + 1)
        notified(group=noisy, receiver=receiver, at=at + timedelta(minutes=2),
                 status="resolved", incident=n + 1)
    quiet = incident(at=DAY, alertname="DbDown", acked_after=30)
    notified(group=quiet, receiver=receiver, at=DAY)

    rows = noisiest_alerts(start=START, end=END)

    assert [(row.alertname, row.fired, row.acknowledged) for row in rows] == [
        ("DiskAlmostFull", 40, 0), ("DbDown", 1, 1)]
    assert rows[0].firing_mean == 120 and rows[0].firing_total == 40 * 120
    with translation.override("en"):
        table = noise_table(start=START, end=END)
    assert table.rows[0][1] == "instance=db-1"
    assert table.rows[0][-1].startswith("fired 40 times in 7 days, never acknowledged")
    assert table.rows[1][-1] == ""


def test_suggestions_for_rarely_acknowledged_and_short_lived_alerts():
    with translation.override("en"):
        assert noise_suggestion(fired=4, acknowledged=0, firing_mean=None, days=7) == ""
        assert "acknowledged only 1 times" in noise_suggestion(
            fired=20, acknowledged=1, firing_mean=None, days=7)
        assert "within 2 minutes" in noise_suggestion(
            fired=20, acknowledged=10, firing_mean=100, days=7)
        assert noise_suggestion(fired=20, acknowledged=15, firing_mean=3600, days=7) == ""


def test_the_csv_has_the_tables_columns_and_defuses_formulas(alpha):
    receiver = ReceiverFactory(name="pager")
    group = incident(at=DAY, alertname="=HYPERLINK(\"http://evil\")")
    notified(group=group, receiver=receiver, at=DAY)
    with translation.override("en"):
        rows = list(csv.reader(io.StringIO(table_csv(noise_table(start=START, end=END)))))

    assert rows[0][:4] == ["Alert name", "Group labels", "Fired", "Acknowledged"]
    assert rows[1][0] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1][2:4] == ["1", "0"]
