"""A channel that edits its messages learns the vendor's name for the incident's first one.

The vendor reference is recorded when a message is delivered; the next
message of the same incident carries it as its thread root, a re-fire (the
next incident) opens a new one, and a person's page threads apart.
"""

from __future__ import annotations

from functools import partial

import pytest
from django.utils import timezone

from alerting.services import alert_group_acknowledge
from escalation.actions import Action, ActionRequest, actor_for_person, incident_action_apply
from receivers.delivery import notification_deliver
from receivers.delivery.send import notification_message
from receivers.models import Notification
from receivers.selectors import notification_thread_root
from tests.factories import (
    AlertGroupFactory,
    ContactMethodFactory,
    NotificationFactory,
    PersonFactory,
    ReceiverFactory,
)
from tests.receivers.slack_bot.conftest import slack_receiver
from tests.receivers.transports.slack_api import SlackApi


@pytest.fixture
def slack(alpha, httpserver, settings):
    settings.HERALD_GROUP_WINDOW_SECONDS = 0
    return SlackApi(httpserver).install()


def delivered(receiver, group, **fields) -> Notification:
    notification = NotificationFactory(receiver=receiver, alert_group=group,
                                       incident=group.incident, **fields)
    notification_deliver(notification_id=notification.id)
    return Notification.objects.get(id=notification.id)


def test_the_vendor_reference_is_kept_and_handed_to_the_incidents_next_message(alpha, slack):
    app = slack_receiver(api_url=slack.api_url)
    group = AlertGroupFactory()

    first = delivered(app, group)
    assert first.vendor_ref == {"channel": "C0HERALD", "ts": "1700000000.000001"}
    following = NotificationFactory(receiver=app, alert_group=group, incident=group.incident)
    assert notification_message(following).thread_root_ref == first.vendor_ref
    root = notification_thread_root(receiver_id=app.id, alert_group_id=group.id,
                                    incident=group.incident, before_id=following.id)
    assert root.notification_id == first.id

    group.incident += 1  # resolved and fired again: a new incident, a new message
    group.save()
    refire = NotificationFactory(receiver=app, alert_group=group, incident=group.incident)
    assert notification_message(refire).thread_root_ref is None


def test_a_failed_send_records_no_reference_and_roots_nothing(alpha, slack):
    app = slack_receiver(api_url=slack.api_url)
    group = AlertGroupFactory()
    slack.fail("chat.postMessage", "channel_not_found")

    failed = delivered(app, group)

    assert failed.vendor_ref is None and failed.state == "failed"
    later = NotificationFactory(receiver=app, alert_group=group, incident=group.incident)
    assert notification_message(later).thread_root_ref is None


def test_a_persons_page_threads_apart_from_the_channels_message(alpha, slack):
    app = slack_receiver(api_url=slack.api_url, carries_pages=True)
    group = AlertGroupFactory()
    channel_message = delivered(app, group)
    alice = PersonFactory(display_name="Alice")
    method = ContactMethodFactory(person=alice, kind="slack_app", address="U0ALICE")

    page = NotificationFactory(receiver=app, alert_group=group, incident=group.incident,
                               contact_method=method, recipient_address="U0ALICE")

    assert channel_message.vendor_ref is not None
    assert notification_message(page).thread_root_ref is None


def test_channels_without_in_place_updates_are_not_asked_for_a_root(alpha, httpserver):
    hook = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})
    httpserver.expect_request("/hook").respond_with_data("ok")
    group = AlertGroupFactory()
    delivered(hook, group)
    assert notification_message(
        NotificationFactory(receiver=hook, alert_group=group)).thread_root_ref is None


def updates(group) -> list[tuple[str, bool, str]]:
    return list(Notification.objects.filter(alert_group=group, acknowledgement=True)
                .order_by("id").values_list("receiver__kind", "acknowledgement", "group_update"))


def test_an_acknowledgement_is_passed_to_in_place_channels_and_pagerduty_alike(
    alpha, slack, django_capture_on_commit_callbacks
):
    app = slack_receiver(api_url=slack.api_url)
    pagerduty = ReceiverFactory(kind="pagerduty", secrets={"routing_key": "k" * 32})
    hook = ReceiverFactory(kind="webhook")
    group = AlertGroupFactory()
    for receiver in (app, pagerduty, hook):  # each told of the firing
        NotificationFactory(receiver=receiver, alert_group=group, state="delivered",
                            delivered_at=timezone.now())

    with django_capture_on_commit_callbacks():
        alert_group_acknowledge(alert_group_id=group.id, by="Alice")

    assert sorted(updates(group)) == [
        ("pagerduty", True, "acknowledged"), ("slack_app", True, "acknowledged")]


def test_unacknowledging_is_passed_to_in_place_channels_only(alpha, slack, paged_editor):
    app = slack_receiver(api_url=slack.api_url)
    pagerduty = ReceiverFactory(kind="pagerduty", secrets={"routing_key": "k" * 32})
    group = AlertGroupFactory(acknowledged_at=timezone.now(), acknowledged_by="Alice")
    for receiver in (app, pagerduty):
        NotificationFactory(receiver=receiver, alert_group=group, state="delivered")

    act = partial(incident_action_apply, tenant=alpha, channel="slack",
                  actor=actor_for_person(person_id=paged_editor.id))
    assert act(request=ActionRequest(alert_group_id=group.id, incident=group.incident,
                                     action=Action.UNACKNOWLEDGE)).done

    assert updates(group) == [("slack_app", True, "unacknowledged")]
    update = Notification.objects.get(alert_group=group, group_update="unacknowledged")
    message = notification_message(update)
    assert (message.group_state, message.group_update) == ("firing", "unacknowledged")
    assert message.actions[0].action == "acknowledge"


@pytest.fixture
def paged_editor(alpha):
    return PersonFactory(user__username="erin", display_name="Erin", membership="editor")
