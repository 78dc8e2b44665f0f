"""A page is a person's own message: mailed to them, never grouped, folded or failed over.

Sent by the receiver that carries email pages (a real SMTP server on
127.0.0.1 stands in for the relay), whose own list also hears the group's
channel messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from escalation.links import action_token_read
from receivers.delivery import notification_deliver
from receivers.models import Notification
from tests.escalation.paging.conftest import email_config, policy_with, tick
from tests.factories import (
    PersonFactory,
    ReceiverFactory,
    RouteFactory,
    TeamFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import post, public_client
from tests.receivers.smtp import Mailbox, smtp_server


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def carrier(alpha, mailbox):
    return ReceiverFactory(name="mail", kind="email", carries_pages=True, secrets={},
                           config=email_config(port=mailbox.port))


@pytest.fixture
def alice(alpha):
    return PersonFactory(user__username="alice", display_name="Alice", email="alice@example.com")


def deliver_pending() -> None:
    for _ in range(2):  # a failover copy is pending once its original failed
        for notification in Notification.objects.filter(state="pending").order_by("id"):
            notification_deliver(notification_id=notification.id)


def recipients(mailbox: Mailbox) -> list[list[str]]:
    return [envelope.rcpt_tos for envelope in mailbox.received]


def test_the_page_is_mailed_to_the_person_and_its_link_names_them(
    carrier, alice, mailbox, fire, clock
):
    group = fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": alice}])]),
                 receivers=[carrier])
    deliver_pending()  # the carrier's own message to its list, first
    tick()
    deliver_pending()  # then Alice's page, within the grouping window of the first

    assert recipients(mailbox) == [["sre-list@example.com"], ["alice@example.com"]]
    channel_mail, page_mail = (envelope.message for envelope in mailbox.received)
    assert page_mail["To"] == "alice@example.com"
    assert page_mail["In-Reply-To"] is None  # Alice never got the list's mail
    token = re.search(r"/ack/([^/\s]+)/", page_mail.get_body(("plain",)).get_content()).group(1)
    link = action_token_read(token)
    assert (link.recipient, link.channel, link.alert_group_id) == (
        f"person:{alice.id}", "email", group.id)
    channel_token = re.search(
        r"/ack/([^/\s]+)/", channel_mail.get_body(("plain",)).get_content()).group(1)
    assert action_token_read(channel_token).recipient == "mail"
    page = Notification.objects.get(page__isnull=False)
    assert (page.state, page.folded_count, page.folded_into_id) == ("delivered", 0, None)


def test_a_second_rule_to_the_same_address_replies_to_the_persons_first_page(
    carrier, alice, mailbox, fire, clock
):
    from datetime import timedelta

    method = alice.contact_methods.get()
    alice.notification_rules.create(contact_method=method, delay_minutes=5)
    fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": alice}])]),
         receivers=[carrier])
    deliver_pending()
    tick()
    deliver_pending()
    clock.shift(timedelta(minutes=5))
    tick()
    deliver_pending()

    _, first, second = (envelope.message for envelope in mailbox.received)
    assert second["To"] == "alice@example.com"
    assert second["In-Reply-To"] == first["Message-ID"]


def test_a_page_that_fails_for_good_is_not_handed_to_the_carriers_fallback(
    carrier, alice, mailbox, fire, clock, httpserver
):
    carrier.fallback = ReceiverFactory(name="backup", secrets={"url": httpserver.url_for("/b")})
    carrier.max_attempts = 1
    carrier.save()
    mailbox.refuse_with = "550 no such mailbox"
    fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": alice}])]))
    tick()
    deliver_pending()

    page = Notification.objects.get()
    assert page.state == "failed" and "SMTP 550" in page.last_error
    assert not Notification.objects.filter(receiver__name="backup").exists()
    assert httpserver.log == []


def test_a_resolve_is_not_sent_to_the_carriers_list_because_a_page_was_delivered(
    carrier, alice, mailbox, alpha, ingest_key, clock
):
    RouteFactory(receivers=[], escalation_policy=policy_with(
        [(0, [{"kind": "person", "person": alice}])]))
    key = ingest_key(alpha)
    firing = WebhookAlertFactory()
    payload = WebhookPayloadFactory(alerts=[firing])
    assert post(public_client(), payload, key).status_code == 200
    tick()
    deliver_pending()
    resolved = {**firing, "status": "resolved", "endsAt": "2026-11-23T11:00:00Z"}
    assert post(public_client(), {**payload, "status": "resolved", "alerts": [resolved]},
                key).status_code == 200
    deliver_pending()

    assert recipients(mailbox) == [["alice@example.com"]]
    assert list(Notification.objects.values_list("status", flat=True)) == ["firing"]


def test_a_page_over_the_rate_limit_waits_and_is_never_folded_into_a_digest(
    carrier, alice, mailbox, fire, clock
):
    bob = PersonFactory(user__username="bob", display_name="Bob", email="bob@example.com")
    carrier.rate_limit = "1/hour"
    carrier.save()
    team = TeamFactory(name="SRE", members=[alice, bob])
    fire(escalation_policy=policy_with([(0, [{"kind": "team", "team": team}])]))
    tick()
    deliver_pending()

    assert recipients(mailbox) == [["alice@example.com"]]
    waiting = Notification.objects.get(recipient_address="bob@example.com")
    assert (waiting.state, waiting.folded_into_id, waiting.last_error) == (
        "pending", None, "rate limited")
    assert not Notification.objects.filter(is_digest=True).exists()


def test_a_delivered_page_is_in_the_audit_trail_with_its_person_and_address(
    carrier, alice, mailbox, fire, clock
):
    from alerting.audit.models import AuditEntry
    from alerting.audit.outcomes import audit_outcomes_seal

    fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": alice}])]))
    tick()
    deliver_pending()
    audit_outcomes_seal()

    entry = AuditEntry.objects.get(action="notification_delivered")
    page = Notification.objects.get().page
    assert (entry.after["page_id"], entry.after["recipient"]) == (page.id, "alice@example.com")
    assert page.person_name == "Alice"
