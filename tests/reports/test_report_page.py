"""An auditor opens the tenant's report page: charts, tables and a CSV of each, for a period."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from alerting.reports.models import SlaTarget
from tests.factories import ReceiverFactory
from tests.reports.factories import incident, notified


def _history():
    SlaTarget.objects.create(severity="critical", acknowledge_within_minutes=5)
    yesterday = timezone.now() - timedelta(days=1)
    receiver = ReceiverFactory(name="pager")
    group = incident(at=yesterday, alertname="<b>DiskFull</b>", acked_after=120,
                     resolved_after=900, by="api:ci")
    notified(group=group, receiver=receiver, at=yesterday)
    old = incident(at=timezone.now() - timedelta(days=60), alertname="LongAgo", acked_after=5)
    notified(group=old, receiver=receiver, at=old.first_seen_at)


def test_an_auditor_sees_the_charts_tables_and_csv_links(alpha, client_as):
    _history()
    response = client_as("auditor").get("/admin/reports/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    page = response.content.decode()
    for chart in ("chart-volume", "chart-weekly", "chart-noise"):
        assert f'id="{chart}"' in page
    assert "&lt;b&gt;DiskFull&lt;/b&gt;" in page and "<b>DiskFull</b>" not in page
    assert "LongAgo" not in page  # outside the last 30 days
    assert page.count('class="csv-link"') == 9
    assert "/admin/reports/times-by-severity.csv?date_from=" in page


def test_a_chosen_period_and_its_csv(alpha, client_as):
    _history()
    client = client_as("auditor")
    today = timezone.now().date()
    query = {"date_from": (today - timedelta(days=90)).isoformat(), "date_to": today.isoformat()}

    page = client.get("/admin/reports/", query).content.decode()
    csv = client.get("/admin/reports/times-by-severity.csv", query)

    assert "LongAgo" in page
    assert csv["Content-Type"].startswith("text/csv")
    assert "attachment" in csv["Content-Disposition"]
    lines = csv.content.decode().splitlines()
    assert lines[1].startswith("critical,2,2,")


def test_a_bad_period_says_so_and_shows_the_default(alpha, client_as):
    today = timezone.now().date()
    response = client_as("auditor").get("/admin/reports/", {
        "date_from": today.isoformat(), "date_to": (today - timedelta(days=3)).isoformat(),
    }, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "The start of the period is after its end." in response.content.decode()
    too_long = client_as("auditor").get("/admin/reports/", {
        "date_from": "2020-01-01", "date_to": today.isoformat()}, HTTP_ACCEPT_LANGUAGE="en")
    assert "A period is at most 366 days." in too_long.content.decode()


def test_strangers_and_unknown_tables_get_nothing(alpha, client_as):
    assert client_as(None).get("/admin/reports/").status_code == 302  # to the login
    assert client_as("outsider").get("/admin/reports/").status_code == 302
    assert client_as("auditor").get("/admin/reports/nonsense.csv").status_code == 404


def test_the_overview_shows_the_last_weeks_noise_and_times(alpha, client_as):
    _history()
    page = client_as("auditor").get("/admin/overview/").content.decode()
    assert 'id="overview-reports"' in page and 'id="chart-noise"' in page
    assert "&lt;b&gt;DiskFull&lt;/b&gt;" in page


def test_editors_set_the_sla_targets_in_the_admin_auditors_only_read_them(alpha, client_as):
    added = client_as("editor").post("/admin/reports/slatarget/add/", {
        "severity": "critical", "acknowledge_within_minutes": "15"})
    assert added.status_code == 302
    assert SlaTarget.objects.get().acknowledge_within_minutes == 15
    assert client_as("auditor").get("/admin/reports/slatarget/").status_code == 200
    assert client_as("auditor").get("/admin/reports/slatarget/add/").status_code == 403


def test_the_report_speaks_french_and_german(alpha, client_as):
    _history()
    french = client_as("auditor").get("/admin/reports/", HTTP_ACCEPT_LANGUAGE="fr")
    german = client_as("auditor").get("/admin/reports/", HTTP_ACCEPT_LANGUAGE="de")
    assert "Télécharger en CSV" in french.content.decode()
    assert "Alertes les plus bruyantes" in french.content.decode()
    assert "Als CSV herunterladen" in german.content.decode()
    assert "Lauteste Alarme" in german.content.decode()
