"""A number gets at most 5 SMS (3 calls) in 15 minutes, then one summary SMS; a tenant's
monthly phone spend ceiling stops phone sends with a recorded failure and a warning."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from escalation.models import Page
from escalation.people.services import RuleSpec, notification_rule_set
from receivers.delivery import notification_deliver
from receivers.delivery.phone_limits import phone_spend_warning
from receivers.models import DeliveryAttempt, Notification, PhoneSend, PhoneSpend, PhoneSummary
from receivers.phone.summaries import phone_summaries_send_due
from tests.admin.test_permissions import get
from tests.escalation.conftest import START, clock  # noqa: F401 (a fixture)
from tests.escalation.paging.conftest import fire, policy_with, tick  # noqa: F401 (fixtures)
from tests.escalation.people.conftest import member_of
from tests.factories import ContactMethodFactory, PersonFactory, ReceiverFactory
from tests.receivers.phone.phone_channel import loopback_phone  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_phone")]


@pytest.fixture
def phone(alpha, httpserver):
    httpserver.expect_request("/phone", method="POST").respond_with_json({"ok": True})
    return ReceiverFactory(name="phone", kind="loopphone", carries_pages=True, secrets={},
                           config={"url": httpserver.url_for("/phone"),
                                   "price_per_sms": "0.05", "price_per_call": "0.20"})


@pytest.fixture
def alice(alpha):
    person = PersonFactory(user__username="alice", display_name="Alice")
    person.sms = ContactMethodFactory(person=person, kind="sms", address="+4915123456789")
    return person


def sent(httpserver) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def page_alice(fire, alice, times: int) -> None:  # noqa: F811
    policy = policy_with([(0, [{"kind": "person", "person": alice}])])
    for _ in range(times):
        fire(escalation_policy=policy)
    tick()
    for notification in Notification.objects.filter(state="pending").order_by("id"):
        notification_deliver(notification_id=notification.id)


def test_the_sixth_sms_in_15_minutes_is_held_and_one_summary_counts_them(
    phone, alice, fire, clock, httpserver  # noqa: F811
):
    page_alice(fire, alice, 7)

    pages = Notification.objects.filter(page__isnull=False).order_by("id")
    assert [n.state for n in pages] == ["delivered"] * 5 + ["held"] * 2
    assert pages.last().last_error == (
        "held: 5 SMS to this number in the last 15 minutes already; counted in one summary SMS")
    assert len(sent(httpserver)) == 5
    summary = PhoneSummary.objects.get()
    assert (summary.held_count, summary.due_at, summary.sent_at) == (
        2, START + timedelta(minutes=15), None)

    clock.move_to(START + timedelta(minutes=14))
    assert phone_summaries_send_due() == 0  # not due yet
    clock.move_to(START + timedelta(minutes=15))
    assert phone_summaries_send_due() == 1

    summary_sms = sent(httpserver)[-1]
    assert summary_sms == {"to": "+4915123456789", "mode": "sms",
                           "text": "2 more pages for you in the last 15 minutes. "
                                   "Open Herald to see them."}
    assert PhoneSummary.objects.get().sent_at is not None
    assert phone_summaries_send_due() == 0  # one summary, once
    spend = PhoneSpend.objects.get()
    assert (spend.sms_count, spend.amount) == (6, Decimal("0.30"))

    clock.move_to(START + timedelta(minutes=16))  # the window moved on: pages go again
    page_alice(fire, alice, 1)
    assert Notification.objects.filter(page__isnull=False).order_by("-id")[0].state == (
        "delivered")


def test_calls_have_their_own_limit_of_three(phone, alice, fire, clock, httpserver):  # noqa: F811
    alice.sms.kind = "voice"
    alice.sms.save()

    page_alice(fire, alice, 4)

    states = list(Notification.objects.filter(page__isnull=False).order_by("id")
                  .values_list("state", flat=True))
    assert states == ["delivered"] * 3 + ["held"]
    assert [m["mode"] for m in sent(httpserver)] == ["voice"] * 3
    assert PhoneSpend.objects.get().amount == Decimal("0.60")
    clock.move_to(START + timedelta(minutes=15))
    phone_summaries_send_due()
    assert sent(httpserver)[-1]["mode"] == "sms"  # the summary of held calls is an SMS
    assert sent(httpserver)[-1]["text"].startswith("1 more page for you")


def test_the_limits_are_settings(phone, alice, fire, clock, httpserver, settings):  # noqa: F811
    settings.HERALD_PHONE_SMS_PER_15_MIN = 2

    page_alice(fire, alice, 3)

    assert list(Notification.objects.filter(page__isnull=False).order_by("id")
                .values_list("state", flat=True)) == ["delivered", "delivered", "held"]


def test_the_monthly_ceiling_stops_phone_sends_with_a_recorded_failure(
    alpha, phone, alice, fire, clock, httpserver  # noqa: F811
):
    alpha.phone_monthly_spend_ceiling = Decimal("0.10")
    alpha.save(update_fields=["phone_monthly_spend_ceiling"])
    mail = ContactMethodFactory(person=alice, kind="email", address="alice@example.com")
    notification_rule_set(person=alice, rules=[RuleSpec(alice.sms, 0), RuleSpec(mail, 30)])

    page_alice(fire, alice, 3)

    phone_pages = Notification.objects.filter(contact_kind="sms").order_by("id")
    assert [n.state for n in phone_pages] == ["delivered", "delivered", "failed"]
    stopped = phone_pages.last()
    assert stopped.last_error == ("not sent: this month's phone spend ceiling is reached "
                                  "(0.10 of 0.10; a SMS costs 0.0500)")
    attempt = DeliveryAttempt.objects.get(notification=stopped)
    assert (attempt.outcome, attempt.error) == ("failed", stopped.last_error)
    assert len(sent(httpserver)) == 2
    assert PhoneSend.objects.count() == 2
    # Her next rule (mail, 30 minutes in) is due now rather than in half an hour.
    assert Page.objects.get(notifications=stopped).next_rule_at == START

    spend = PhoneSpend.objects.get()
    assert (spend.amount, spend.stopped_count, spend.stopped_since) == (
        Decimal("0.10"), 1, START)
    admin = member_of(alpha, "ada", role="admin")
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(admin)
    page = get(client, "/admin/overview/").content.decode()
    assert ('id="phone-spend">Phone sends are stopped for the rest of November 2026: 0.10 of '
            "the monthly ceiling of 0.10 is spent, and 1 SMS or calls were not sent") in page


def test_a_tenant_without_a_ceiling_is_never_stopped_or_warned(
    phone, alice, fire, clock, httpserver  # noqa: F811
):
    page_alice(fire, alice, 2)

    assert PhoneSpend.objects.get().stopped_count == 0
    assert phone_spend_warning() is None


def test_a_retry_is_not_another_page_for_the_limit_but_costs_again(
    alpha, alice, fire, clock, httpserver, settings  # noqa: F811
):
    settings.HERALD_PHONE_SMS_PER_15_MIN = 1
    httpserver.expect_oneshot_request("/phone", method="POST").respond_with_data("", status=503)
    httpserver.expect_request("/phone", method="POST").respond_with_json({"ok": True})
    ReceiverFactory(name="phone", kind="loopphone", carries_pages=True, secrets={},
                    config={"url": httpserver.url_for("/phone"), "price_per_sms": "0.05"})

    page_alice(fire, alice, 1)  # the provider answers 503: a retry is due
    page = Notification.objects.get(page__isnull=False)
    assert (page.state, page.attempts) == ("pending", 1)
    notification_deliver(notification_id=page.id)

    page.refresh_from_db()
    assert (page.state, page.attempts) == ("delivered", 2)
    assert list(PhoneSend.objects.order_by("id").values_list("counted", flat=True)) == [
        True, False]
    assert PhoneSpend.objects.get().amount == Decimal("0.10")
