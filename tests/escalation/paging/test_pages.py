"""A person's page follows their rules until someone acknowledges or the chain moves on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerting.services import alert_group_acknowledge, alert_group_resolve
from escalation.models import ContactMethod, EscalationEvent, Page
from escalation.paging.pages import page_rule_run
from receivers.models import Notification
from tests.escalation.conftest import START
from tests.escalation.paging.conftest import policy_with, tick
from tests.factories import ContactMethodFactory, PersonFactory, TeamFactory


def with_rules(name: str, *rules: tuple[str, int, bool]):
    """A person whose rules page each (address, delay in minutes, verified?) in turn."""
    person = PersonFactory(user__username=name, display_name=name.title())
    for address, delay, verified in rules:
        method = ContactMethodFactory(person=person, address=address)
        if not verified:
            ContactMethod.objects.filter(id=method.id).update(verified_at=None)
        person.notification_rules.create(contact_method=method, delay_minutes=delay)
    return person


def mailed_to() -> list[str]:
    return list(
        Notification.objects.filter(page__isnull=False).order_by("id")
        .values_list("recipient_address", flat=True)
    )


def states() -> dict[str, str]:
    return dict(Page.objects.values_list("person_name", "state"))


@pytest.fixture
def alice(alpha, carrier):
    return with_rules("alice", ("alice@work.example", 0, True), ("alice@home.example", 5, True))


@pytest.fixture
def bob(alpha, carrier):
    return with_rules("bob", ("bob@work.example", 0, True), ("bob@home.example", 5, True))


def test_email_at_once_then_a_second_method_after_five_minutes(alice, fire, clock):
    fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": alice}])]))

    tick()
    assert mailed_to() == ["alice@work.example"]
    page = Page.objects.get()
    assert (page.next_rule, page.next_rule_at) == (1, START + timedelta(minutes=5))
    assert [rule["delay_minutes"] for rule in page.rules] == [0, 5]

    clock.shift(timedelta(minutes=4, seconds=59))
    assert tick() == 0
    assert mailed_to() == ["alice@work.example"]
    clock.shift(timedelta(seconds=1))
    assert tick() == 1
    assert mailed_to() == ["alice@work.example", "alice@home.example"]
    page.refresh_from_db()
    assert page.state == "finished" and page.next_rule_at is None
    assert [rule["state"] for rule in page.rules] == ["sent", "sent"]


def test_unverified_methods_are_never_paged(alpha, carrier, fire, clock):
    erin = with_rules("erin", ("erin@unconfirmed.example", 0, False),
                      ("erin@work.example", 1, True))
    fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": erin}])]))

    tick()
    clock.shift(timedelta(minutes=10))
    tick()

    assert mailed_to() == ["erin@work.example"]
    page = Page.objects.get()
    assert [rule["address"] for rule in page.rules] == ["erin@work.example"]


def test_the_first_acknowledgement_by_anyone_stops_everyones_pages(alice, bob, fire, clock):
    team = TeamFactory(name="SRE", members=[alice, bob])
    group = fire(escalation_policy=policy_with([(0, [{"kind": "team", "team": team}])]))
    tick()
    assert sorted(mailed_to()) == ["alice@work.example", "bob@work.example"]

    clock.shift(timedelta(minutes=1))
    alert_group_acknowledge(alert_group_id=group.id, by="bob")  # Bob, in the admin
    clock.shift(timedelta(minutes=10))
    tick()

    assert sorted(mailed_to()) == ["alice@work.example", "bob@work.example"]
    assert states() == {"Alice": "stopped", "Bob": "acknowledged"}


def test_moving_to_the_next_level_stops_the_earlier_levels_pages(alice, bob, fire, clock):
    fire(escalation_policy=policy_with([
        (0, [{"kind": "person", "person": alice}]),
        (3, [{"kind": "person", "person": bob}]),
    ]))
    tick()
    clock.shift(timedelta(minutes=3))
    tick()
    assert states() == {"Alice": "stopped", "Bob": "active"}
    clock.shift(timedelta(minutes=10))
    tick()

    # Alice's second rule (after 5 minutes) never ran: level 2 had taken over.
    assert mailed_to() == ["alice@work.example", "bob@work.example", "bob@home.example"]


def test_a_resolve_stops_the_pages(alice, fire, clock):
    group = fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": alice}])]))
    tick()
    alert_group_resolve(alert_group_id=group.id, by="alice")
    clock.shift(timedelta(minutes=10))
    tick()

    assert mailed_to() == ["alice@work.example"]
    assert states() == {"Alice": "stopped"}


def test_a_stale_or_early_rule_task_does_nothing(alice, fire, clock):
    fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": alice}])]))
    tick()
    page = Page.objects.get()

    assert page_rule_run(page_id=page.id, rule=0) is False  # ran already: stale
    assert page_rule_run(page_id=page.id, rule=1) is False  # not due yet
    clock.shift(timedelta(minutes=5))
    assert page_rule_run(page_id=page.id, rule=1) is True
    assert page_rule_run(page_id=page.id, rule=1) is False  # a duplicate
    assert mailed_to() == ["alice@work.example", "alice@home.example"]


def test_a_method_unverified_before_its_rule_is_due_is_not_paged_and_that_is_recorded(
    alice, fire, clock
):
    fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": alice}])]))
    tick()
    ContactMethod.objects.filter(address="alice@home.example").update(verified_at=None)
    clock.shift(timedelta(minutes=5))
    tick()

    assert mailed_to() == ["alice@work.example"]
    page = Page.objects.get()
    assert page.rules[1]["state"] == "failed"
    assert EscalationEvent.objects.get(kind="gap").detail == (
        "Alice: email rule: the contact method is gone or no longer verified"
    )


def test_a_broken_chain_in_the_ticks_batch_holds_no_other_chain_back(alice, fire, clock, caplog):
    from escalation.models import Escalation

    policy = policy_with([(0, [{"kind": "person", "person": alice}])])
    first, second = fire(escalation_policy=policy), fire(escalation_policy=policy)
    broken = Escalation.objects.get(alert_group=first)
    broken.snapshot = {"steps": [{"kind": "notify", "level": 1}]}  # a level without its fields
    broken.save()

    assert tick() == 1

    assert list(Page.objects.values_list("alert_group_id", flat=True)) == [second.id]
    assert mailed_to() == ["alice@work.example"]
    assert f"escalation {broken.id}: its step failed" in caplog.text
