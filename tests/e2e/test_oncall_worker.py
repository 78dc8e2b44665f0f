"""Paging people with the real worker: route → team policy → the person on call → their mail.

A local SMTP server (aiosmtpd) stands in for the relay of the receiver that
carries email pages; the acknowledge link is opened on the live server as
the person would, from their mail.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
import requests
import time_machine
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.models import AlertGroup
from escalation.models import Escalation, EscalationEvent, LayerRestriction, Page
from escalation.tasks import escalation_tick
from receivers.delivery import notifications_enqueue
from receivers.models import Notification, NotificationState
from tests.conftest import wait_for
from tests.escalation.paging.conftest import email_config, policy_with
from tests.factories import (
    NotificationFactory,
    PersonFactory,
    ReceiverFactory,
    RouteFactory,
    ScheduleFactory,
    ScheduleLayerFactory,
    TeamFactory,
    WebhookPayloadFactory,
)
from tests.ingest import INGEST
from tests.receivers.smtp import smtp_server

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _worker_loads_tenants_anew(committed_tenants):
    """The worker keeps the tenants it loaded for a minute (CELERY_TASK_TENANT_CACHE_SECONDS);
    committed_tenants made the rows again, with new link signing keys: the worker must
    sign this test's links with the keys the web checks them with."""
    from tenant_schemas_celery.task import _shared_storage

    _shared_storage.clear()


@pytest.fixture
def mailbox():
    with smtp_server() as box:
        yield box


def people_and_rotation(mailbox):
    """Alice on call this week in Primary, Bob the team's lead; mail pages carried to them."""
    ReceiverFactory(name="mail", kind="email", carries_pages=True, secrets={},
                    config=email_config(port=mailbox.port))
    alice = PersonFactory(user__username="alice", display_name="Alice", email="alice@example.com")
    bob = PersonFactory(user__username="bob", display_name="Bob", email="bob@example.com")
    primary = ScheduleFactory(name="Primary")
    # Weekly shifts from yesterday at midnight: Alice's runs until six days from now.
    ScheduleLayerFactory(schedule=primary, name="weekly", members=[alice, bob],
                         start_date=(timezone.now() - timedelta(days=1)).date(),
                         handoff_time=time(0, 0), shift_length=7, shift_unit="days")
    team = TeamFactory(name="SRE", members=[alice], leads=[bob])
    return alice, bob, primary, team


def fire(live_server, ingest_key, tenant) -> str:
    """Post an alert group to ingest; its group key."""
    payload = WebhookPayloadFactory()
    response = requests.post(
        live_server.url + INGEST, json=payload,
        headers={"Authorization": f"Bearer {ingest_key(tenant)}"}, timeout=10,
    )
    assert response.status_code == 200
    return payload["groupKey"]


def tick_and_wait(tenant, httpserver) -> None:
    """Run the tick on the worker; the solo worker takes tasks in order, so once a
    sentinel notification queued after it is delivered, the tick has run."""
    escalation_tick.delay()
    with tenant_context(tenant):
        sentinel = ReceiverFactory(secrets={"url": httpserver.url_for("/sentinel")})
        notification = NotificationFactory(receiver=sentinel)
        notifications_enqueue(notification_ids=[notification.id])
        wait_for(lambda: Notification.objects.filter(
            id=notification.id, state=NotificationState.DELIVERED).exists())


def mailed_to(mailbox) -> list[str]:
    return [to for envelope in mailbox.received for to in envelope.rcpt_tos]


def acknowledge_from_mail(live_server, mail) -> requests.Response:
    """Open the mail's link and press Acknowledge, as the person would in a browser."""
    token = re.search(r"/ack/([^/\s]+)/", mail.get_body(("plain",)).get_content()).group(1)
    session = requests.Session()
    url = f"{live_server.url}/ack/{token}/"
    page = session.get(url, timeout=10)
    assert page.status_code == 200 and "Sent to Alice" in page.text
    return session.post(url, data={"csrfmiddlewaretoken": session.cookies["csrftoken"]},
                        headers={"Referer": url}, timeout=10)


def test_the_person_on_call_is_mailed_and_their_link_stops_level_two(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key, mailbox
):
    alpha = committed_tenants["alpha"]
    httpserver.expect_request("/sentinel").respond_with_data("ok")
    with tenant_context(alpha):
        _, bob, primary, team = people_and_rotation(mailbox)
        team.escalation_policy = policy_with([
            (0, [{"kind": "on_call", "schedule": primary}]),
            (5, [{"kind": "person", "person": bob}]),
        ])
        team.save()
        RouteFactory(receivers=[], team=team)

    group_key = fire(live_server, ingest_key, alpha)
    wait_for(lambda: mailed_to(mailbox) == ["alice@example.com"])  # level 1, by its ETA task
    response = acknowledge_from_mail(live_server, mailbox.received[0].message)
    assert response.status_code == 200 and "Acknowledged" in response.text

    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        tick_and_wait(alpha, httpserver)  # level 2 would be due now

    assert mailed_to(mailbox) == ["alice@example.com"]  # Bob was never paged
    with tenant_context(alpha):
        group = AlertGroup.objects.get(group_key=group_key)
        assert group.acknowledged_by == "Alice, by the link in their email"
        assert Escalation.objects.get().state == "acknowledged"
        page = Page.objects.get()
        assert (page.person_name, page.target, page.state) == (
            "Alice", "on call in Primary", "acknowledged")
        assert page.schedule_version == primary.version


def test_nobody_on_call_goes_to_the_fallback_and_is_recorded(
    live_server, committed_tenants, celery_worker_thread, ingest_key, mailbox
):
    alpha = committed_tenants["alpha"]
    with tenant_context(alpha):
        _, bob, primary, team = people_and_rotation(mailbox)
        # The rotation covers only a day that is not today: nobody is on call now.
        LayerRestriction.objects.create(
            layer=primary.layers.get(), weekday=(timezone.now().weekday() + 3) % 7,
            start_time=time(9), end_time=time(17),
        )
        team.escalation_policy = policy_with([
            (0, [{"kind": "on_call", "schedule": primary},
                 {"kind": "person", "person": bob, "fallback": True}]),
        ])
        team.save()
        RouteFactory(receivers=[], team=team)

    fire(live_server, ingest_key, alpha)
    wait_for(lambda: mailed_to(mailbox) == ["bob@example.com"])

    with tenant_context(alpha):
        (gap,) = EscalationEvent.objects.filter(kind="gap")
        assert gap.detail.startswith(f"nobody on call in Primary (version {primary.version}) at ")
        assert "next on call at " in gap.detail
        assert list(Page.objects.values_list("person_name", flat=True)) == ["Bob"]


def test_nobody_acknowledges_so_the_persons_second_rule_follows_on_the_tick(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key, mailbox
):
    alpha = committed_tenants["alpha"]
    httpserver.expect_request("/sentinel").respond_with_data("ok")
    with tenant_context(alpha):
        alice, _, primary, team = people_and_rotation(mailbox)
        home = alice.contact_methods.create(kind="email", address="alice@home.example",
                                            verified_at=timezone.now())
        alice.notification_rules.create(contact_method=home, delay_minutes=2)
        team.escalation_policy = policy_with([(0, [{"kind": "on_call", "schedule": primary}])])
        team.save()
        RouteFactory(receivers=[], team=team)

    fire(live_server, ingest_key, alpha)
    wait_for(lambda: mailed_to(mailbox) == ["alice@example.com"])
    with time_machine.travel(timezone.now() + timedelta(minutes=2, seconds=1)):
        tick_and_wait(alpha, httpserver)
        wait_for(lambda: mailed_to(mailbox) == ["alice@example.com", "alice@home.example"])

    with tenant_context(alpha):
        page = Page.objects.get()
        assert page.state == "finished"
        assert [rule["state"] for rule in page.rules] == ["sent", "sent"]
