"""Browser tests: a member keeps her contact method and confirms it by the mail's link; an
admin reads a schedule's timeline, takes a shift in two clicks; the overview says who is
on call now, and a level that found nobody stands out on its group's page and the overview.
Real Chromium, live server, local SMTP server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from alerting.models import AlertGroup
from escalation.models import ContactMethod, EscalationEvent, LayerRestriction, ScheduleOverride
from escalation.people.verification import verification_token
from escalation.schedules.services import schedule_override_create
from receivers.models import Receiver
from tests.browser.conftest import log_in
from tests.conftest import wait_for
from tests.escalation.paging.conftest import policy_with, tick, weekly_rotation
from tests.factories import (
    ContactMethodFactory,
    PersonFactory,
    RouteFactory,
    ScheduleFactory,
    ScheduleLayerFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import post, public_client
from tests.receivers.smtp import smtp_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


@pytest.fixture
def alpha(committed_tenants):
    return committed_tenants["alpha"]


def csp_watch(page) -> list[str]:
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return violations


def next_saturday(now: datetime) -> datetime:
    day = now.date() + timedelta(days=(5 - now.weekday()) % 7 or 7)
    return datetime.combine(day, time(0), tzinfo=UTC)


def test_a_member_edits_her_address_and_confirms_it_by_the_link_in_the_mail(
    page, screenshot, tenant_url, member, alpha, settings, live_server
):
    settings.HERALD_BASE_URL = live_server.url
    violations = csp_watch(page)
    alice = member("alice", "auditor")
    with tenant_context(alpha), smtp_server() as mailbox:
        person = PersonFactory(user=alice, display_name="Alice")
        method = ContactMethodFactory(person=person, address="alice@example.com")
        Receiver.objects.create(
            name="pager-mail", kind="email", carries_pages=True,
            config={"host": mailbox.host, "port": mailbox.port, "security": "none",
                    "from_address": "herald@example.com", "to": ["ops@example.com"]},
        )
        base = tenant_url("alpha")
        log_in(page, base, "alice")

        page.goto(f"{base}/admin/escalation/person/{person.pk}/change/")
        expect(page.locator(".field-status").first).to_contain_text("Verified")
        page.fill("#id_contact_methods-0-address", "alice@example.org")
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist .success")
        expect(page.locator(".field-status").first).to_contain_text("Unverified: not paged")
        screenshot("oncall-01-contact-method-unverified")
        method.refresh_from_db()
        assert method.address == "alice@example.org" and not method.verified

        page.click("text=Send confirmation mail")
        expect(page.locator(".messagelist")).to_contain_text(
            "A confirmation mail was sent to alice@example.org")
        (mail,) = mailbox.received
        assert mail.rcpt_tos == ["alice@example.org"]
        link = re.search(r"http://\S+/contact/verify/\S+/", mail.message.get_content()).group(0)

        # A link altered, or one of another tenant, confirms nothing.
        slug, _, signed = link.split("/contact/verify/")[1].rstrip("/").partition(":")
        forged = page.goto(f"{live_server.url}/contact/verify/{slug}:{signed[:-2]}xx/")
        assert forged.status == 400
        expect(page.locator("h1")).to_have_text("This confirmation link cannot be used")
        with tenant_context(alpha):
            foreign = verification_token(tenant=alpha, contact_method_id=method.pk,
                                         address=method.address)
        foreign = foreign.replace("alpha:", "beta:", 1)
        assert page.goto(f"{live_server.url}/contact/verify/{foreign}/").status == 400
        method.refresh_from_db()
        assert not method.verified

        response = page.goto(link)
        assert response.status == 200
        expect(page.locator("h1")).to_have_text("Address confirmed")
        screenshot("oncall-02-address-confirmed")
        method.refresh_from_db()
        assert method.verified

        # A new address needs a new confirmation: the old link no longer works.
        page.goto(f"{base}/admin/escalation/person/{person.pk}/change/")
        expect(page.locator(".field-status").first).to_contain_text("Verified")
        page.fill("#id_contact_methods-0-address", "alice@example.net")
        page.click("input[name=_continue]")
        expect(page.locator(".field-status").first).to_contain_text("Unverified")
        assert page.goto(link).status == 410
        method.refresh_from_db()
        assert method.address == "alice@example.net" and not method.verified
    assert violations == []


def test_an_admin_reads_the_timeline_and_takes_a_shift_in_two_clicks(
    page, screenshot, tenant_url, member, alpha
):
    violations = csp_watch(page)
    admin_user = member("olivia", "admin")
    users = {name: member(name, "auditor") for name in ("alice", "bob", "carol")}
    saturday = next_saturday(timezone.now())
    with tenant_context(alpha):
        olivia = PersonFactory(user=admin_user, display_name="Olivia")
        people = {name: PersonFactory(user=user, display_name=name.title())
                  for name, user in users.items()}
        schedule = ScheduleFactory(name="Primary", time_zone="UTC")
        ScheduleLayerFactory(schedule=schedule, name="Weekly",
                             members=[people["alice"], people["bob"]])
        schedule_override_create(schedule=schedule, kind="replace", person=people["carol"],
                                 start=saturday, end=saturday + timedelta(days=2),
                                 note="weekend swap")
    base = tenant_url("alpha")
    log_in(page, base, "olivia")

    page.goto(f"{base}/admin/escalation/schedule/{schedule.pk}/change/")
    layer = page.locator('#timeline .tl-layer[data-row="Weekly"]')
    expect(layer).to_contain_text("Alice")
    expect(layer).to_contain_text("Bob")
    final = page.locator("#final-shifts")
    carol = final.locator("tr", has_text="Carol")
    expect(carol).to_contain_text("override")
    expect(carol).to_contain_text(f"{saturday:%a} {saturday.day} {saturday:%b} 00:00")
    screenshot("oncall-03-schedule-timeline")

    # Click one: "take this shift" on the shift after the weekend; click two: save.
    after_weekend = final.locator("tr.shift").filter(has_not_text="Carol").last
    after_weekend.locator("a.take-shift").click()
    expect(page.locator("#id_person")).to_have_value(str(olivia.pk))
    screenshot("oncall-04-override-prefilled")
    page.click("input[name=_save]")

    expect(page.locator(".messagelist .success")).to_contain_text("Override saved: Olivia")
    expect(page.locator("#final-shifts tr", has_text="Olivia").last).to_contain_text("override")
    expect(page.locator('#timeline .tl-final')).to_contain_text("Olivia")
    screenshot("oncall-05-override-in-timeline")
    with tenant_context(alpha):
        assert ScheduleOverride.objects.filter(person=olivia, created_by="olivia").count() == 1
    assert violations == []


def test_the_overview_says_who_is_on_call_now(page, screenshot, tenant_url, member, alpha):
    user = member("alice", "auditor")
    with tenant_context(alpha):
        alice = PersonFactory(user=user, display_name="Alice")
        schedule = ScheduleFactory(name="Primary")
        ScheduleLayerFactory(schedule=schedule, members=[alice])
        ScheduleFactory(name="Empty")
        assert ContactMethod.objects.count() == 0
    base = tenant_url("alpha")
    log_in(page, base, "alice")

    page.goto(f"{base}/admin/overview/")

    expect(page.locator("#on-call-now tr", has_text="Primary")).to_contain_text("Alice")
    expect(page.locator("#on-call-now tr", has_text="Empty")).to_contain_text(
        "Nobody: a gap in coverage")
    screenshot("oncall-06-overview-on-call-now")


def test_a_gap_stands_out_on_the_groups_page_and_the_overview(
    page, screenshot, tenant_url, member, alpha, ingest_key
):
    violations = csp_watch(page)
    user = member("alice", "auditor")
    key = ingest_key(alpha)
    with tenant_context(alpha):
        alice = PersonFactory(user=user, display_name="Alice")
        primary = weekly_rotation(alice)
        # Covered on another weekday only: nobody is on call now. The level has no
        # fallback, so nobody is paged and no notification is queued for a worker.
        LayerRestriction.objects.create(layer=primary.layers.get(),
                                        weekday=(timezone.now().weekday() + 3) % 7,
                                        start_time=time(9), end_time=time(17))
        policy = policy_with([(0, [{"kind": "on_call", "schedule": primary}])], name="oncall")
        RouteFactory(receivers=[], escalation_policy=policy)
        payload = WebhookPayloadFactory(alerts=[WebhookAlertFactory()])
        assert post(public_client(), payload, key).status_code == 200
        tick()
        # A worker of the session, if one runs, may have taken the step's ETA task instead.
        wait_for(lambda: EscalationEvent.objects.filter(kind="gap").count() == 2)
        group = AlertGroup.objects.get(group_key=payload["groupKey"])
    base = tenant_url("alpha")
    log_in(page, base, "alice")

    page.goto(f"{base}/admin/alerting/alertgroup/{group.pk}/change/")

    warnings = page.locator("#paging-gaps li.warning")
    expect(warnings.first).to_contain_text("Level 1 found nobody")
    expect(warnings.first).to_contain_text("nobody on call in Primary")
    expect(warnings.last).to_contain_text("nobody was paged, and the level has no fallback")
    expect(page.locator("#paging-pages")).to_contain_text("Nobody was paged for this group.")
    # The stylesheet is served and applied under the CSP: the gap's rows are marked.
    border = page.locator("#paging-gap-rows tr.gap td").first.evaluate(
        "cell => getComputedStyle(cell).borderLeftWidth")
    assert border == "4px"
    screenshot("oncall-07-group-gap")

    page.goto(f"{base}/admin/overview/")
    expect(page.locator("#recent-gaps tr.gap").first).to_contain_text("oncall")
    expect(page.locator("#recent-gaps")).to_contain_text("nobody on call in Primary")
    screenshot("oncall-08-overview-gaps")
    page.locator("#recent-gaps tr.gap a").first.click()
    expect(page.locator("#paging-gaps")).to_be_visible()
    assert violations == []
