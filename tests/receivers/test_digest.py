"""Digest text and alert merging (pure)."""

from datetime import UTC, datetime, timedelta

from receivers.delivery.digest import alerts_merge, digest_text
from tests.receivers.helpers import alert

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_the_digest_says_how_many_alerts_over_how_long_and_names_them():
    alerts = [alert(n=n) for n in range(12)]
    text = digest_text(alerts=alerts, since=NOW - timedelta(minutes=4, seconds=10), now=NOW)
    assert text.startswith("12 more alerts in the last 5 minutes: HighLatency (web-0:9100), ")
    assert text.endswith(" and 2 more")


def test_one_alert_in_under_a_minute():
    text = digest_text(alerts=[alert()], since=NOW, now=NOW)
    assert text == "1 more alert in the last minute: HighLatency (web-1:9100)"


def test_merging_keeps_each_alert_once_with_its_latest_state():
    merged = alerts_merge([[alert(n=1), alert(n=2)], [alert("resolved", n=1), alert(n=3)]])
    assert [(a["fingerprint"][-1], a["status"]) for a in merged] == [
        ("1", "resolved"),
        ("2", "firing"),
        ("3", "firing"),
    ]
