"""Browser tests: the admin speaks the viewer's language.

Claire's profile says French (and Paris time): she reads the admin in French
whatever her browser asks for. Dieter has no profile: his browser asks for
German, and he gets German. Screenshots of both go to docs/screenshots/.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tests.browser.conftest import log_in, publish
from tests.factories import AlertGroupFactory, PersonFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

# 10:00 UTC: 11:00 in Paris (winter time), 10:00 in the tenant's UTC.
LAST_SEEN = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)


def _an_alert_group():
    return AlertGroupFactory(
        group_key='{}:{alertname="DiskFull"}', common_labels={"alertname": "DiskFull",
                                                             "severity": "critical"},
        first_seen_at=LAST_SEEN, last_seen_at=LAST_SEEN, firing_count=2,
    )


def test_claire_reads_the_admin_in_french_because_her_profile_says_so(
    page, screenshot, tenant_url, member, committed_tenants
):
    user = member("claire", "editor")
    with tenant_context(committed_tenants["alpha"]):
        PersonFactory(user=user, language="fr", time_zone="Europe/Paris")
        group = _an_alert_group()
    page.set_extra_http_headers({"Accept-Language": "en-US,en;q=0.9"})  # the profile wins
    base = tenant_url("alpha")
    log_in(page, base, "claire")

    expect(page.locator("#overview-link")).to_contain_text(
        "Vue d'ensemble : les dernières 24 heures")
    expect(page.locator("#content-main")).to_contain_text("Groupes d'alertes")
    expect(page.locator("#content-main")).to_contain_text("Alertes")  # the app
    expect(page.locator("#content-main")).to_contain_text("Sources d'ingestion")

    page.goto(f"{base}/admin/overview/")
    expect(page.locator("#overview")).to_contain_text("D'astreinte maintenant")
    expect(page.locator("#overview")).to_contain_text("Réussite des envois par canal")

    page.goto(f"{base}/admin/alerting/alertgroup/")
    row = page.locator("#result_list tbody tr", has_text="DiskFull")
    # French date format, in Claire's zone: 10:00 UTC is 11:00 in Paris.
    expect(row).to_contain_text("5 mars 2026 11:00")
    expect(page.locator("select[name=action]")).to_contain_text(
        "Acquitter les groupes d'alertes sélectionnés")
    publish(page, screenshot, "admin-fr")

    page.goto(f"{base}/admin/alerting/alertgroup/{group.pk}/change/")
    expect(page.locator("#paging")).to_contain_text("Personnes appelées")
    # The group's page keeps the tenant's wall clock (its business hours'), and says so.
    expect(page.locator("#paging")).to_contain_text("heures en UTC")

    # A change form refusing a bad matcher says why, in French.
    page.goto(f"{base}/admin/alerting/silence/add/")
    page.fill("#id_matchers", "nonsense")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist").first).to_contain_text(
        "n'est pas un sélecteur comme name=")
    expect(page.locator("label[for=id_matchers]")).to_contain_text("Sélecteurs")


def test_dieter_has_no_profile_and_his_browser_asks_for_german(
    page, screenshot, tenant_url, member, committed_tenants
):
    member("dieter", "editor")
    with tenant_context(committed_tenants["alpha"]):
        group = _an_alert_group()
    page.set_extra_http_headers({"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    base = tenant_url("alpha")

    page.goto(f"{base}/admin/login/?next=/admin/")
    expect(page.locator("input[type=submit]")).to_have_value("Anmelden")
    expect(page.locator("label[for=id_otp_token]")).to_contain_text("Zwei-Faktor-Code")
    log_in(page, base, "dieter")
    expect(page.locator("#overview-link")).to_contain_text("Übersicht: die letzten 24 Stunden")
    expect(page.locator("#content-main")).to_contain_text("Alarmgruppen")
    expect(page.locator("#content-main")).to_contain_text("Stummschaltungen")

    page.goto(f"{base}/admin/overview/")
    expect(page.locator("#overview")).to_contain_text("Jetzt in Bereitschaft")

    page.goto(f"{base}/admin/alerting/alertgroup/")
    row = page.locator("#result_list tbody tr", has_text="DiskFull")
    expect(row).to_contain_text("5. März 2026 10:00")  # the tenant's zone: UTC
    publish(page, screenshot, "admin-de")

    page.goto(f"{base}/admin/alerting/alertgroup/{group.pk}/change/")
    expect(page.locator("#paging")).to_contain_text("Alarmierte Personen")

    page.goto(f"{base}/admin/alerting/silence/add/")
    page.fill("#id_matchers", "nonsense")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist").first).to_contain_text("ist kein Matcher wie name=")
    assert re.search(r"Stummschaltung", page.title())


def test_a_browser_naming_no_herald_language_gets_the_tenant_default(
    page, tenant_url, member, committed_tenants
):
    tenant = committed_tenants["alpha"]
    tenant.default_language = "fr"
    tenant.save(update_fields=["default_language"])
    from tenants.middleware import domain_cache_clear

    domain_cache_clear()
    page.set_extra_http_headers({"Accept-Language": "ja,zh;q=0.8"})
    page.goto(f"{tenant_url('alpha')}/admin/login/?next=/admin/")
    expect(page.locator("input[type=submit]")).to_have_value("Connexion")
